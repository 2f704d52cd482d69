import Testing
@testable import Slurm

@Suite struct SlurmTests {
    @Test func splitsSbatchArgumentsLikeAShell() throws {
        #expect(try Slurm.splitArguments("--account=me  --qos='high prio' --comment=\"a b\" x\\ y") ==
                ["--account=me", "--qos=high prio", "--comment=a b", "x y"])
        #expect(try Slurm.splitArguments("   ") == [])
        #expect(throws: Slurm.Failure.self) { try Slurm.splitArguments("--qos='open") }
    }

    @Test func quotesWordsForTheShell() {
        #expect(Slurm.shellQuote("/runs/a-1") == "/runs/a-1")
        #expect(Slurm.shellQuote("it's here") == "'it'\\''s here'")
        #expect(Slurm.shellQuote("") == "''")
        #expect(Slurm.shellQuote("{\"a\":1}") == "'{\"a\":1}'")
    }

    @Test func submissionArguments() {
        let s = Slurm.Submission(name: "weave-runs", partition: "cpu", arraySize: 3, afterOK: ["12", "13"], output: "/w/slurm-%a.out",
                                 cpus: 4, memory: "8G", time: "2:00:00", extraArguments: ["--account=me"], directory: "/p")
        #expect(s.arguments == ["--parsable", "--job-name=weave-runs", "--output=/w/slurm-%a.out", "--kill-on-invalid-dep=yes",
                                "--partition=cpu", "--array=0-2", "--dependency=afterok:12:13", "--cpus-per-task=4", "--mem=8G",
                                "--time=2:00:00", "--chdir=/p", "--account=me"])
        let plain = Slurm.Submission(name: "merge", output: "/o")
        #expect(plain.arguments == ["--parsable", "--job-name=merge", "--output=/o", "--kill-on-invalid-dep=yes"])
    }
}
