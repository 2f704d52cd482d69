import Foundation

/// The chunk layer of PNG files (ISO/IEC 15948): the signature, then chunks of a 4-byte
/// big-endian length, a 4-byte type, the data and a CRC.
enum PNGChunks {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// Ancillary chunks that tell a viewer how to map samples to colours. libpng's simplified
    /// reader applies them (a 16-bit grey file with gAMA 1/2.2 came out 48 levels darker);
    /// for training data the stored samples are the pixels, so they are dropped before it reads.
    static let colourSpace: Set<String> = ["gAMA", "sRGB", "cHRM", "iCCP", "cICP"]

    /// `data` without colour-space chunks (the same bytes when it has none, or when its chunk
    /// structure is broken: libpng then reports the damage).
    static func withoutColourSpace(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { return data }
        var keep: [Range<Int>] = []
        var dropped = false
        var at = 8
        while at < bytes.count {
            guard at + 12 <= bytes.count else { return data }
            let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            let end = at + 12 + length
            guard length < 1 << 31, end <= bytes.count else { return data }
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            if colourSpace.contains(type) { dropped = true } else { keep.append(at..<end) }
            at = end
        }
        guard dropped else { return data }
        var out = Data(signature)
        for r in keep { out.append(contentsOf: bytes[r]) }
        return out
    }
}
