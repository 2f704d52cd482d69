/// Everything that can be wrong with a data file. Every case names the file, so a one-line
/// message is enough for a user to know which file to replace and why.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read at all.
    case unreadable(file: String, reason: String)
    /// A file of a format or version this loader refuses (e.g. MATLAB v7.3 / HDF5).
    case unsupportedFormat(file: String, reason: String)
    /// The file ends before the data it announces.
    case truncated(file: String, detail: String)
    /// The bytes contradict the format (bad tags, sizes, compressed streams).
    case malformed(file: String, detail: String)
    /// A variable or part the dataset needs is absent.
    case missing(file: String, what: String)
    /// A variable has the wrong shape or element type.
    case wrongShape(file: String, variable: String, expected: String, found: String)
    /// A label lies outside the classes of the dataset.
    case labelOutOfRange(file: String, index: Int, value: Int)
    /// A label that is not a class index at all (NaN, fractional, huge), printed as stored.
    case invalidLabel(file: String, index: Int, value: String, expected: String)
    /// A downloaded file's checksum differs from the published one.
    case checksumMismatch(file: String, expected: String, actual: String)
    /// A split asks for more images than the data holds.
    case notEnoughData(what: String)

    /// One line starting with the file: "FILE: what is wrong".
    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read: \(reason)"
        case let .unsupportedFormat(file, reason): return "\(file): unsupported format: \(reason)"
        case let .truncated(file, detail): return "\(file): truncated: \(detail)"
        case let .malformed(file, detail): return "\(file): malformed: \(detail)"
        case let .missing(file, what): return "\(file): missing \(what)"
        case let .wrongShape(file, variable, expected, found):
            return "\(file): variable '\(variable)' has shape \(found), expected \(expected)"
        case let .labelOutOfRange(file, index, value): return "\(file): label \(value) of image \(index) is out of range"
        case let .invalidLabel(file, index, value, expected): return "\(file): label \(value) of image \(index) is not \(expected)"
        case let .checksumMismatch(file, expected, actual): return "\(file): MD5 \(actual) does not match the published \(expected)"
        case let .notEnoughData(what): return "not enough data: \(what)"
        }
    }
}
