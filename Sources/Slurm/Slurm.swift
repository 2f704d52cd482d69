import Foundation
import ProcessRunner

/// Slurm's own command-line clients (`sbatch`, `scancel`, `squeue`), run as processes: the
/// scheduler is Slurm's; this only submits, cancels and asks. Foundation only, so both the
/// pipeline's CLI and the weaver can use it.
public enum Slurm {
    /// A Slurm client failed or is not installed.
    public struct Failure: Error, CustomStringConvertible {
        /// What failed, with the client's own message.
        public var description: String
        /// A failure described by `description`.
        public init(_ description: String) { self.description = description }
    }

    /// What to ask `sbatch` for, beyond the script.
    public struct Submission: Sendable {
        /// `--job-name`.
        public var name: String
        /// `--partition` (nil: the cluster's default).
        public var partition: String?
        /// `--array=0-(N-1)` (an array of N tasks); nil: a plain job.
        public var arraySize: Int?
        /// Jobs that must end successfully first (`--dependency=afterok:a:b`).
        public var afterOK: [String]
        /// `--output` (sbatch patterns such as %A, %a, %j allowed); stderr goes to the same file.
        public var output: String
        /// `--cpus-per-task`, `--mem`, `--time` (Slurm's own syntax, e.g. "8G", "2:00:00").
        public var cpus: Int?
        /// `--mem`, e.g. "8G".
        public var memory: String?
        /// `--time`, e.g. "2:00:00".
        public var time: String?
        /// More `sbatch` arguments, given by the user, passed as they are.
        public var extraArguments: [String]
        /// Working directory of the job (`--chdir`).
        public var directory: String?

        /// A job; nil and empty values leave the option out of the `sbatch` command line.
        public init(name: String, partition: String? = nil, arraySize: Int? = nil, afterOK: [String] = [], output: String,
                    cpus: Int? = nil, memory: String? = nil, time: String? = nil, extraArguments: [String] = [],
                    directory: String? = nil) {
            self.name = name
            self.partition = partition
            self.arraySize = arraySize
            self.afterOK = afterOK
            self.output = output
            self.cpus = cpus
            self.memory = memory
            self.time = time
            self.extraArguments = extraArguments
            self.directory = directory
        }

        /// The `sbatch` arguments, without the script.
        public var arguments: [String] {
            var a = ["--parsable", "--job-name=\(name)", "--output=\(output)", "--kill-on-invalid-dep=yes"]
            if let partition { a.append("--partition=\(partition)") }
            if let n = arraySize { a.append("--array=0-\(max(0, n - 1))") }
            if !afterOK.isEmpty { a.append("--dependency=afterok:" + afterOK.joined(separator: ":")) }
            if let cpus { a.append("--cpus-per-task=\(cpus)") }
            if let memory { a.append("--mem=\(memory)") }
            if let time { a.append("--time=\(time)") }
            if let directory { a.append("--chdir=\(directory)") }
            return a + extraArguments
        }
    }

    /// Submits a batch script (its text, starting with `#!`); returns the job id.
    /// Throws when `sbatch` is missing or refuses, with its message.
    public static func submit(script: String, _ submission: Submission) throws -> String {
        let result = try run(["sbatch"] + submission.arguments, stdin: Data(script.utf8))
        guard result.status == 0 else {
            throw Failure("sbatch refused job \(submission.name): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        // --parsable prints "id" or "id;cluster".
        guard let id = result.stdout.split(separator: "\n").first?.split(separator: ";").first.map(String.init),
              !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw Failure("sbatch printed no job id for \(submission.name): \(result.stdout)")
        }
        return id
    }

    /// Cancels jobs (best effort: a job that already ended is not an error).
    public static func cancel(_ ids: [String]) {
        guard !ids.isEmpty else { return }
        _ = try? run(["scancel"] + ids, stdin: nil)
    }

    /// The ids (`123`, `123_4`) of these jobs that Slurm still lists as pending or running;
    /// nil when `squeue` could not be asked (then nothing is known, not "all ended").
    public static func active(_ ids: [String]) -> Set<String>? {
        guard !ids.isEmpty else { return [] }
        guard let r = try? run(["squeue", "-h", "-r", "-o", "%i %T", "-j", ids.joined(separator: ",")], stdin: nil) else { return nil }
        // squeue exits non-zero for ids it has forgotten; its stdout still lists the known ones.
        if r.status != 0 && !r.stderr.contains("Invalid job id") { return nil }
        var found: Set<String> = []
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            let state = parts[1]
            if !["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"].contains(state) {
                found.insert(String(parts[0]))
            }
        }
        return found
    }

    /// Quotes a word for a POSIX shell (single quotes; embedded ones closed and escaped).
    public static func shellQuote(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Splits a user's `--sbatch-args "..."` into words the way a shell would (quotes, no expansion).
    public static func splitArguments(_ text: String) throws -> [String] {
        var words: [String] = [], current = "", inWord = false
        var quote: Character?
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c; inWord = true
            } else if c == "\\" {
                if let n = iterator.next() { current.append(n); inWord = true }
            } else if c.isWhitespace {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(c); inWord = true
            }
        }
        if quote != nil { throw Failure("unbalanced quote in sbatch arguments: \(text)") }
        if inWord { words.append(current) }
        return words
    }

    /// Runs a Slurm client to completion (through the shared `ProcessRunner`).
    static func run(_ arguments: [String], stdin: Data?) throws -> ProcessRunner.Result {
        let result = try ProcessRunner.run(arguments, stdin: stdin)
        if result.status == 127 {
            throw Failure("\(arguments[0]) not found: Slurm's clients must be on PATH (Debian: slurm-client; scripts/local-slurm.sh starts a one-node Slurm)")
        }
        return result
    }
}
