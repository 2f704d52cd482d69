import Foundation

/// A reader for MATLAB level-5 MAT-files (the format of SVHN's `*_32x32.mat`).
///
/// Level 5 is a 128-byte header followed by tagged data elements. Each variable is a
/// `miMATRIX` element, either stored directly or wrapped in a zlib-compressed `miCOMPRESSED`
/// element. Only numeric, real, full (non-sparse) arrays are understood, which is all SVHN
/// uses; everything else is skipped when unwanted and refused when wanted. MATLAB v7.3 files
/// are HDF5 and are refused with a message saying so.
///
/// The reader streams: a variable's data is handed to a consumer as a `MATStream`, so a 1.6 GB
/// variable never exists twice in memory. Every length is checked against what is left, so bad
/// bytes produce a `DatasetError`, never a crash.
enum MATFile {
    // Data types (MAT-file format reference, table 1-1).
    static let miINT8: UInt32 = 1, miUINT8: UInt32 = 2, miINT16: UInt32 = 3, miUINT16: UInt32 = 4
    static let miINT32: UInt32 = 5, miUINT32: UInt32 = 6, miSINGLE: UInt32 = 7, miDOUBLE: UInt32 = 9
    static let miINT64: UInt32 = 12, miUINT64: UInt32 = 13, miMATRIX: UInt32 = 14, miCOMPRESSED: UInt32 = 15
    static let miUTF8: UInt32 = 16

    /// Array classes (mxCLASS) of the numeric kinds.
    static let numericClasses: Set<UInt8> = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    static let classNames: [UInt8: String] = [
        1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double", 7: "single",
        8: "int8", 9: "uint8", 10: "int16", 11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64",
    ]

    static func elementSize(_ type: UInt32) -> Int? {
        switch type {
        case miINT8, miUINT8, miUTF8: return 1
        case miINT16, miUINT16: return 2
        case miINT32, miUINT32, miSINGLE: return 4
        case miDOUBLE, miINT64, miUINT64: return 8
        default: return nil
        }
    }

    /// What precedes a variable's data: its name, class, dimensions and how the data is stored.
    struct MatrixHeader {
        var name: String
        var classID: UInt8
        var className: String { classNames[classID] ?? "class \(classID)" }
        var dims: [Int]
        var isComplex: Bool
        /// Storage type of the real part (may be narrower than the class, as MATLAB compresses).
        var dataType: UInt32
        var dataBytes: Int
        var elementCount: Int { dims.reduce(1, *) }
    }

    /// Walks the file and calls `consume` for each wanted variable; the consumer must read
    /// exactly `header.dataBytes` bytes from the stream (use `readNumbers` or `readRaw`).
    static func read(path: String, wanted: Set<String>,
                     consume: (MatrixHeader, MATStream) throws -> Void) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw DatasetError.unreadable(file: path, reason: "\(error.localizedDescription)")
        }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            let bigEndian = try checkHeader(bytes, file: path)
            var offset = 128
            while offset < bytes.count {
                let remaining = bytes.count - offset
                if remaining < 8 {
                    // MATLAB pads to 8 bytes; trailing zero padding is fine, anything else is not.
                    if bytes[offset...].allSatisfy({ $0 == 0 }) { break }
                    throw DatasetError.truncated(file: path, detail: "incomplete data element tag at byte \(offset)")
                }
                let type = loadU32(bytes, offset, bigEndian)
                let size = Int(loadU32(bytes, offset + 4, bigEndian))
                let body = offset + 8
                if size > bytes.count - body {
                    throw DatasetError.truncated(
                        file: path, detail: "element at byte \(offset) announces \(size) bytes, only \(bytes.count - body) remain")
                }
                let slice = UnsafeRawBufferPointer(rebasing: bytes[body..<(body + size)])
                switch type {
                case miCOMPRESSED:
                    let inflater = try Inflater(input: slice, format: .zlib, file: path)
                    // Deflate never expands data by more than about 1032:1, so a variable that
                    // claims more than that is corrupt; checking before allocating keeps a few
                    // flipped bits from requesting terabytes.
                    let stream = MATStream(inflater: inflater, file: path, bigEndian: bigEndian, bound: size * 1040 + 4096)
                    let (innerType, innerSize) = try stream.readTag(what: "compressed element")
                    guard innerType == miMATRIX else {
                        // Only matrices are ever compressed in practice; skip anything else.
                        break
                    }
                    try visitMatrix(stream: stream, size: innerSize, wanted: wanted, consume: consume)
                    offset = body + size
                    continue
                case miMATRIX:
                    let stream = MATStream(plain: slice, file: path, bigEndian: bigEndian, bound: size)
                    try visitMatrix(stream: stream, size: size, wanted: wanted, consume: consume)
                default:
                    break
                }
                // Uncompressed elements are padded to 8 bytes; compressed ones are not.
                offset = type == miCOMPRESSED ? body + size : body + ((size + 7) & ~7)
            }
        }
    }

    /// Validates the 128-byte header; returns whether the file is big-endian.
    static func checkHeader(_ bytes: UnsafeRawBufferPointer, file: String) throws -> Bool {
        if bytes.count >= 4 && bytes[0] == 0x89 && bytes[1] == 0x48 && bytes[2] == 0x44 && bytes[3] == 0x46 {
            throw DatasetError.unsupportedFormat(file: file, reason: "this is an HDF5 file (MATLAB v7.3); save it with -v7 (or scipy.io.savemat)")
        }
        guard bytes.count >= 128 else {
            throw DatasetError.truncated(file: file, detail: "\(bytes.count) bytes, shorter than the 128-byte MAT-file header")
        }
        let text = String(decoding: bytes[0..<116].prefix { $0 != 0 }, as: UTF8.self)
        let indicator = (bytes[126], bytes[127])
        let bigEndian: Bool
        switch indicator {
        case (0x49, 0x4D): bigEndian = false  // "IM": written little-endian
        case (0x4D, 0x49): bigEndian = true   // "MI"
        default:
            throw DatasetError.unsupportedFormat(file: file, reason: "no level-5 MAT-file header (a MATLAB v4 file, or not a MAT-file)")
        }
        let version = bigEndian ? (UInt16(bytes[124]) << 8 | UInt16(bytes[125])) : (UInt16(bytes[125]) << 8 | UInt16(bytes[124]))
        if version == 0x0200 || text.hasPrefix("MATLAB 7.3") {
            throw DatasetError.unsupportedFormat(file: file, reason: "MATLAB v7.3 (HDF5) MAT-file; save it with -v7 (or scipy.io.savemat)")
        }
        guard version == 0x0100 else {
            throw DatasetError.unsupportedFormat(file: file, reason: "MAT-file version 0x\(String(version, radix: 16)), expected level 5 (0x0100)")
        }
        return bigEndian
    }

    /// Parses a matrix element's header from `stream`, then either hands it to `consume` or
    /// skips its data.
    static func visitMatrix(stream: MATStream, size: Int, wanted: Set<String>,
                            consume: (MatrixHeader, MATStream) throws -> Void) throws {
        let file = stream.file
        if size == 0 { return }  // an empty placeholder matrix
        // Array flags: miUINT32, 8 bytes: flags word then nzmax.
        let (flagType, flagSize) = try stream.readTag(what: "array flags")
        guard flagType == miUINT32, flagSize == 8 else {
            throw DatasetError.malformed(file: file, detail: "array flags have type \(flagType) and \(flagSize) bytes")
        }
        let flags = try stream.readU32(what: "array flags")
        _ = try stream.readU32(what: "array flags")
        let classID = UInt8(flags & 0xFF)
        let isComplex = flags & 0x800 != 0

        // Dimensions: miINT32, at least two.
        let (dimType, dimSize) = try stream.readTag(what: "dimensions")
        guard dimType == miINT32, dimSize >= 8, dimSize % 4 == 0, dimSize <= 4 * 32 else {
            throw DatasetError.malformed(file: file, detail: "dimensions element has type \(dimType) and \(dimSize) bytes")
        }
        var dims: [Int] = []
        for _ in 0..<(dimSize / 4) {
            let d = Int(Int32(bitPattern: try stream.readU32(what: "dimensions")))
            guard d >= 0 else { throw DatasetError.malformed(file: file, detail: "negative dimension \(d)") }
            dims.append(d)
        }
        try stream.skipPadding(after: dimSize, what: "dimensions")

        // Name: miINT8 (often in the small-element format).
        let (nameType, nameSize) = try stream.readTag(what: "array name")
        guard nameType == miINT8 || nameType == miUTF8, nameSize <= 4096 else {
            throw DatasetError.malformed(file: file, detail: "array name has type \(nameType) and \(nameSize) bytes")
        }
        let name = String(decoding: try stream.readRaw(nameSize, what: "array name"), as: UTF8.self)
        try stream.skipPadding(after: nameSize, what: "array name")

        guard wanted.contains(name) else { return }  // the enclosing element's size lets the caller skip
        guard numericClasses.contains(classID) else {
            throw DatasetError.wrongShape(file: file, variable: name, expected: "a numeric array",
                                          found: "a \(classNames[classID] ?? "class \(classID)") array")
        }
        if isComplex {
            throw DatasetError.wrongShape(file: file, variable: name, expected: "a real array", found: "a complex array")
        }
        var elements = 1
        for d in dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow, product <= 1 << 40 else {
                throw DatasetError.malformed(file: file, detail: "dimensions \(dims) of '\(name)' are implausibly large")
            }
            elements = product
        }
        let (dataType, dataSize) = try stream.readTag(what: "data of '\(name)'")
        guard let esize = elementSize(dataType) else {
            throw DatasetError.malformed(file: file, detail: "data of '\(name)' has unknown storage type \(dataType)")
        }
        guard dataSize <= stream.bound else {
            throw DatasetError.truncated(file: file, detail: "data of '\(name)' claims \(dataSize) bytes, more than the element can hold")
        }
        guard dataSize == elements * esize else {
            throw DatasetError.malformed(file: file, detail: "data of '\(name)' has \(dataSize) bytes for \(elements) elements of \(esize) bytes")
        }
        try consume(MatrixHeader(name: name, classID: classID, dims: dims, isComplex: isComplex,
                                 dataType: dataType, dataBytes: dataSize), stream)
    }

    @inline(__always)
    static func loadU32(_ b: UnsafeRawBufferPointer, _ at: Int, _ bigEndian: Bool) -> UInt32 {
        let v = b.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
    }
}

/// Sequential bytes of one MAT element, from the mapped file or from an inflater.
final class MATStream {
    let file: String
    let bigEndian: Bool
    private let inflater: Inflater?
    private let plain: UnsafeRawBufferPointer
    private var position = 0
    /// Bytes of a small-format element waiting to be read (their tag held them inline).
    private var pendingSmall: [UInt8] = []

    /// The most bytes this element can possibly yield (for sanity checks before allocating).
    let bound: Int

    init(inflater: Inflater, file: String, bigEndian: Bool, bound: Int) {
        self.bound = bound
        self.inflater = inflater
        self.plain = UnsafeRawBufferPointer(start: nil, count: 0)
        self.file = file
        self.bigEndian = bigEndian
    }

    init(plain: UnsafeRawBufferPointer, file: String, bigEndian: Bool, bound: Int) {
        self.bound = bound
        self.inflater = nil
        self.plain = plain
        self.file = file
        self.bigEndian = bigEndian
    }

    /// Fills `buffer` from the stream (after any pending small-element bytes).
    func readExactly(into buffer: UnsafeMutableRawBufferPointer, what: String) throws {
        var filled = 0
        if !pendingSmall.isEmpty {
            let n = min(pendingSmall.count, buffer.count)
            for i in 0..<n { buffer[i] = pendingSmall[i] }
            pendingSmall.removeFirst(n)
            filled = n
        }
        let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])
        if rest.isEmpty { return }
        if let inflater {
            try inflater.readExactly(into: rest, what: what)
        } else {
            guard rest.count <= plain.count - position else {
                throw DatasetError.truncated(file: file, detail: "\(what) needs \(rest.count) bytes, the element has \(plain.count - position) left")
            }
            if let src = plain.baseAddress, let dst = rest.baseAddress {
                dst.copyMemory(from: src + position, byteCount: rest.count)
            }
            position += rest.count
        }
    }

    func readRaw(_ count: Int, what: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try readExactly(into: $0, what: what) }
        return out
    }

    func readU32(what: String) throws -> UInt32 {
        var v: UInt32 = 0
        try withUnsafeMutableBytes(of: &v) { try readExactly(into: $0, what: what) }
        return bigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
    }

    /// Reads a tag in either the normal (8-byte tag + data) or small (data inside the tag) form.
    func readTag(what: String) throws -> (type: UInt32, size: Int) {
        let first = try readU32(what: "tag of \(what)")
        if first >> 16 != 0 {
            // Small data element: 2 bytes size, 2 bytes type, then up to 4 bytes of data.
            let type = first & 0xFFFF
            let size = Int(first >> 16)
            guard size <= 4 else {
                throw DatasetError.malformed(file: file, detail: "small element of \(what) claims \(size) bytes")
            }
            let inline = try readRaw(4, what: what)
            pendingSmall = Array(inline[0..<size])
            smallPending = true
            return (type, size)
        }
        smallPending = false
        let size = try readU32(what: "tag of \(what)")
        return (first, Int(size))
    }

    private var smallPending = false

    /// Skips the padding to 8 bytes after an element of `size` bytes (none for small elements).
    func skipPadding(after size: Int, what: String) throws {
        if smallPending { smallPending = false; pendingSmall = []; return }
        let pad = (8 - size % 8) % 8
        if pad > 0 { _ = try readRaw(pad, what: "padding after \(what)") }
    }

    /// Reads `header.elementCount` numbers stored as `header.dataType`, as Doubles.
    func readNumbers(_ header: MATFile.MatrixHeader) throws -> [Double] {
        let raw = try readRaw(header.dataBytes, what: "data of '\(header.name)'")
        let n = header.elementCount
        var out = [Double](repeating: 0, count: n)
        raw.withUnsafeBytes { b in
            for i in 0..<n {
                out[i] = Self.number(b, i, header.dataType, bigEndian)
            }
        }
        return out
    }

    private static func number(_ b: UnsafeRawBufferPointer, _ i: Int, _ type: UInt32, _ be: Bool) -> Double {
        func u16() -> UInt16 { let v = b.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self); return be ? UInt16(bigEndian: v) : UInt16(littleEndian: v) }
        func u32() -> UInt32 { let v = b.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self); return be ? UInt32(bigEndian: v) : UInt32(littleEndian: v) }
        func u64() -> UInt64 { let v = b.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self); return be ? UInt64(bigEndian: v) : UInt64(littleEndian: v) }
        switch type {
        case MATFile.miINT8: return Double(Int8(bitPattern: b[i]))
        case MATFile.miUINT8: return Double(b[i])
        case MATFile.miINT16: return Double(Int16(bitPattern: u16()))
        case MATFile.miUINT16: return Double(u16())
        case MATFile.miINT32: return Double(Int32(bitPattern: u32()))
        case MATFile.miUINT32: return Double(u32())
        case MATFile.miSINGLE: return Double(Float(bitPattern: u32()))
        case MATFile.miDOUBLE: return Double(bitPattern: u64())
        case MATFile.miINT64: return Double(Int64(bitPattern: u64()))
        case MATFile.miUINT64: return Double(u64())
        default: return .nan
        }
    }
}
