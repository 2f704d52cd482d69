import Foundation
import Testing

/// `engine-bench` refuses options that would time nothing, never end or mean nothing, by name and
/// before any work (ArgumentParser's usage status 64, no signal; a negative number is read as
/// the option's value, not as another option), and its help gives the engine's Winograd
/// defaults.
@Suite struct EngineBenchOptionsTests {
    @Test(arguments: [
        (["--seconds", "0"], "--seconds"), (["--seconds", "-1"], "--seconds"), (["--seconds", "nan"], "--seconds"),
        (["--seconds", "inf"], "--seconds"), (["--peak-size=-1"], "--peak-size"), (["--peak-size", "100000"], "--peak-size"),
        (["--winograd-channel-product", "-5"], "--winograd-channel-product"), (["--inference-chunk", "-1"], "--inference-chunk"),
        (["--threads", "-2"], "--threads"), (["--batch", "9223372036854775807"], "--batch"),
        (["--image-size", "65536"], "--image-size"),
        (["--gemm-channel-product=-1"], "--gemm-channel-product"),
        (["--winograd-weight-channel-product=-1"], "--winograd-weight-channel-product"),
        (["--winograd-inference-channel-product=-1"], "--winograd-inference-channel-product"),
    ])
    func badOptionsAreRefusedByName(_ c: ([String], String)) throws {
        let exe = try #require(CLI.executable("engine-bench"))
        // The other options keep an accepted run short (a tiny inference, no sgemm reference).
        var args = c.0 + ["--mode", "infer"]
        if !c.1.hasPrefix("--batch") { args += ["--batch", "2"] }
        if !c.1.hasPrefix("--seconds") { args += ["--seconds", "0.1"] }
        if !c.1.hasPrefix("--peak-size") { args += ["--peak-size", "0"] }
        let r = try CLI.outcome(exe, args, timeout: 60)
        #expect(r.status == 64 && !r.signalled && r.err.contains(c.1), "\(c.0): status \(r.status), \(r.err)")
        #expect(!r.out.contains("img/s"), "\(c.0) timed something: \(r.out)")
    }

    @Test func helpGivesTheWinogradDefaults() throws {
        let exe = try #require(CLI.executable("engine-bench"))
        let r = try CLI.outcome(exe, ["--help"], timeout: 60)
        let help = r.out.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        #expect(r.status == 0)
        for d in ["the engine's, 1024", "the engine's, 256)"] { #expect(help.contains(d), "help lacks '\(d)': \(r.out)") }
    }
}
