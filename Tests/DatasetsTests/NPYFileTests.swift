import Foundation
import Testing
import Datasets

/// The .npy layout NumPy reads (numpy.lib.format, version 1.0).
@Suite struct NPYFileTests {
    @Test func headerIsNumPys() throws {
        let d = NPYFile.encode([1, 2, 3, 4, 5, 6] as [UInt8], shape: [1, 2, 3])
        let bytes = [UInt8](d)
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 3), }"))
        #expect(header.hasSuffix("\n"))
        #expect(Array(bytes[(10 + headerLength)...]) == [1, 2, 3, 4, 5, 6])
    }

    @Test func int32LabelsAreLittleEndianWithATupleOfOne() {
        let bytes = [UInt8](NPYFile.encode([-1, 258] as [Int32], shape: [2]))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect(String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self).contains("'descr': '<i4'") )
        #expect(String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self).contains("'shape': (2,)"))
        #expect(Array(bytes[(10 + headerLength)...]) == [0xFF, 0xFF, 0xFF, 0xFF, 2, 1, 0, 0])
    }
}
