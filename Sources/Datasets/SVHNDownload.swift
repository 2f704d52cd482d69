import Foundation
import SystemSupport

/// Fetching SVHN for users with internet access (`noisy-student fetch-svhn --dir DIR`, called
/// by `./build.sh --fetch-svhn DIR`). Nothing else in the project downloads at run time.
public enum SVHNDownload {
    /// One file of the SVHN cropped-digits release.
    public struct File: Sendable, Equatable {
        /// File name, e.g. "train_32x32.mat".
        public var name: String
        /// The MD5 the SVHN site publishes (lowercase hex).
        public var md5: String
        /// Where the SVHN site serves it.
        public var url: String { "http://ufldl.stanford.edu/housenumbers/" + name }
    }

    /// The three cropped-digit files and their published MD5 sums.
    public static let files: [File] = [
        File(name: "train_32x32.mat", md5: "e26dedcc434d2e4c54c9b2d4a06d8373"),
        File(name: "test_32x32.mat", md5: "eb5a983be6a315427106f1b164d9cef3"),
        File(name: "extra_32x32.mat", md5: "a93ce644f1a588dc4d68dda5feec44a7"),
    ]

    /// Throws `checksumMismatch` unless the file's MD5 is `expected`.
    public static func verify(path: String, expected: String) throws {
        let actual: String
        do { actual = try MessageDigest.file(.md5, at: URL(fileURLWithPath: path)) } catch {
            throw DatasetError.unreadable(file: path, reason: error.localizedDescription)
        }
        guard actual == expected.lowercased() else {
            throw DatasetError.checksumMismatch(file: path, expected: expected.lowercased(), actual: actual)
        }
    }

    /// What `fetch` does with each file: skip a verified copy, else download and verify.
    public enum Outcome: Equatable, Sendable { case alreadyPresent, downloaded }

    /// Downloads the missing or damaged files into `directory` with curl and verifies each.
    /// A file is written under a temporary name and renamed only after its checksum matched, so
    /// an interrupted download never looks complete.
    @discardableResult
    public static func fetch(into directory: String, files: [File] = files,
                             log: (String) -> Void = { print($0) }) throws -> [Outcome] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var outcomes: [Outcome] = []
        for file in files {
            let target = directory + "/" + file.name
            if FileManager.default.fileExists(atPath: target), (try? verify(path: target, expected: file.md5)) != nil {
                log("\(file.name): present, MD5 ok")
                outcomes.append(.alreadyPresent)
                continue
            }
            let partial = target + ".part"
            log("\(file.name): downloading \(file.url)")
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            curl.arguments = ["curl", "--fail", "--location", "--retry", "3", "--continue-at", "-",
                              "--output", partial, file.url]
            do { try curl.run() } catch {
                throw DatasetError.unreadable(file: file.url, reason: "cannot run curl: \(error.localizedDescription)")
            }
            curl.waitUntilExit()
            guard curl.terminationStatus == 0 else {
                throw DatasetError.unreadable(file: file.url, reason: "curl exited with status \(curl.terminationStatus)")
            }
            do {
                try verify(path: partial, expected: file.md5)
            } catch {
                // A resumed download over a wrong partial file can never become right: start over next time.
                try? FileManager.default.removeItem(atPath: partial)
                throw error
            }
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.moveItem(atPath: partial, toPath: target)
            log("\(file.name): downloaded, MD5 ok")
            outcomes.append(.downloaded)
        }
        return outcomes
    }
}
