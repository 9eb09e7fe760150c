#if canImport(Glibc)
import Glibc
#endif

// MEASUREMENT ONLY (removed before the branch is done): each speed measure can be turned off at
// run time with MXSPEED_OFF=name,name... so one build measures them all.
public enum SpeedSwitch {
    static let off: Set<String> = {
        guard let raw = getenv("MXSPEED_OFF") else { return [] }
        return Set(String(cString: raw).split(separator: ",").map(String.init))
    }()
    public static let parser = !off.contains("parser")
    public static let textrun = !off.contains("textrun")
    public static let framer = !off.contains("framer")
    public static let immediate = !off.contains("immediate")
    public static let moves = !off.contains("moves")
    public static let replies = !off.contains("replies")
    public static let batch = !off.contains("batch")
    public static let outbuf = !off.contains("outbuf")
    public static let wirewrite = !off.contains("wirewrite")
    public static let memo = !off.contains("memo")
    public static let keeptext = !off.contains("keeptext")
    public static let recvalloc = !off.contains("recvalloc")
    public static let sockaddr = !off.contains("sockaddr")
    public static let policyfast = !off.contains("policyfast")
    public static let executor = !off.contains("executor")
}
