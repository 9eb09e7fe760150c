import Sandbox
import Testing

/// `MXHARNESS_MTA_DIR` is read in one place, for every part that looks for an unpacked MTA.
struct UnpackedMTAsTests {
    @Test func theFolderIsTheVariableOrTheDefaultWhenItIsUnsetOrEmpty() {
        #expect(UnpackedMTAs.directory(environment: ["MXHARNESS_MTA_DIR": "/srv/mta"]) == "/srv/mta")
        #expect(UnpackedMTAs.directory(environment: [:]) == "/var/cache/mxharness/mta")
        #expect(UnpackedMTAs.directory(environment: ["MXHARNESS_MTA_DIR": ""]) == "/var/cache/mxharness/mta")
    }
}
