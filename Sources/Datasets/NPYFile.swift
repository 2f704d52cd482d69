import Foundation

/// NumPy's `.npy` format, version 1.0 (numpy.lib.format): the way splits are handed to Python
/// tools (tools/torch_reference.py) without a NumPy-specific reader on our side.
///
/// Layout: the magic `\x93NUMPY`, version 1.0, a little-endian UInt16 header length, an ASCII
/// Python dict (`descr`, `fortran_order`, `shape`) padded with spaces and a newline so the data
/// starts on a 64-byte boundary, then the values in C order.
public enum NPYFile {
    /// Bytes (`|u1`), e.g. images as [N, H, W, C].
    public static func encode(_ values: [UInt8], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "NPYFile: \(values.count) values for shape \(shape)")
        return header(descr: "|u1", shape: shape) + Data(values)
    }

    /// Little-endian Int32 (`<i4`), e.g. labels as [N].
    public static func encode(_ values: [Int32], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "NPYFile: \(values.count) values for shape \(shape)")
        var data = header(descr: "<i4", shape: shape)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func header(descr: String, shape: [Int]) -> Data {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        let unpadded = 6 + 2 + 2 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(dict.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(dict.utf8))
        return data
    }
}
