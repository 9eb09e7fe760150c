// The exit codes of the commands that run cases, in their `--help` (the README's table says the
// same; the `HarnessError` a command throws carries its code). Lines stay under 80 columns, which
// argument-parser would wrap.

enum ExitCodes {
    static let discussion = """
        Exit codes:
          0  every case ran and passed (parity: no case differs; matrix: every
             own-policy cell holds and nothing changed against --baseline)
          1  a case failed or could not run (parity: a case differs; matrix: a
             cell failed, could not run or changed against --baseline), or a
             report could not be written
          2  usage or load error; or a receiver or sender the cases use cannot
             run here at all (not installed, not unpacked, needs root): said
             before any case runs
          3  nothing ran: no case matched the paths, --tag and --filter, or
             every case was skipped with its reason (parity: no case ran on
             two sides; matrix: every cell was skipped); an empty shard
             (--shard K/N) exits 0
        """
}
