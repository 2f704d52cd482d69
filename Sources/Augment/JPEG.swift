import CJPEG
#if canImport(Glibc)
import Glibc
#endif

/// JPEG round trip through libjpeg-turbo (for the JPEG corruption): compress at `quality`
/// with libjpeg's defaults (4:2:0 chroma subsampling, as PIL saves) and decode again.
///
/// libjpeg reports errors by calling `error_exit`, which by default ends the process; that is
/// acceptable here because both directions work on buffers we made ourselves in memory (a
/// failure would be a programming error, not bad input).
enum JPEG {
    static func roundTrip(_ rgb: [UInt8], height h: Int, width w: Int, quality: Int) -> [UInt8] {
        let cinfo = UnsafeMutablePointer<jpeg_compress_struct>.allocate(capacity: 1)
        let jerr = UnsafeMutablePointer<jpeg_error_mgr>.allocate(capacity: 1)
        let outBuffer = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: 1)
        let outSize = UnsafeMutablePointer<UInt>.allocate(capacity: 1)
        defer { cinfo.deallocate(); jerr.deallocate(); outBuffer.deallocate(); outSize.deallocate() }
        cinfo.initialize(to: jpeg_compress_struct())
        jerr.initialize(to: jpeg_error_mgr())
        outBuffer.initialize(to: nil)
        outSize.initialize(to: 0)

        cinfo.pointee.err = jpeg_std_error(jerr)
        jpeg_CreateCompress(cinfo, JPEG_LIB_VERSION, MemoryLayout<jpeg_compress_struct>.size)
        jpeg_mem_dest(cinfo, outBuffer, outSize)
        cinfo.pointee.image_width = JDIMENSION(w)
        cinfo.pointee.image_height = JDIMENSION(h)
        cinfo.pointee.input_components = 3
        cinfo.pointee.in_color_space = JCS_RGB
        jpeg_set_defaults(cinfo)
        jpeg_set_quality(cinfo, Int32(quality), 1)
        jpeg_start_compress(cinfo, 1)
        var row = [UInt8](repeating: 0, count: w * 3)
        while cinfo.pointee.next_scanline < cinfo.pointee.image_height {
            let y = Int(cinfo.pointee.next_scanline)
            for i in 0..<(w * 3) { row[i] = rgb[y * w * 3 + i] }
            row.withUnsafeMutableBufferPointer { r in
                var p: UnsafeMutablePointer<UInt8>? = r.baseAddress
                _ = jpeg_write_scanlines(cinfo, &p, 1)
            }
        }
        jpeg_finish_compress(cinfo)
        jpeg_destroy_compress(cinfo)
        defer { free(outBuffer.pointee) }

        let dinfo = UnsafeMutablePointer<jpeg_decompress_struct>.allocate(capacity: 1)
        defer { dinfo.deallocate() }
        dinfo.initialize(to: jpeg_decompress_struct())
        dinfo.pointee.err = jpeg_std_error(jerr)
        jpeg_CreateDecompress(dinfo, JPEG_LIB_VERSION, MemoryLayout<jpeg_decompress_struct>.size)
        jpeg_mem_src(dinfo, outBuffer.pointee, outSize.pointee)
        _ = jpeg_read_header(dinfo, 1)
        dinfo.pointee.out_color_space = JCS_RGB
        jpeg_start_decompress(dinfo)
        var out = [UInt8](repeating: 0, count: h * w * 3)
        while dinfo.pointee.output_scanline < dinfo.pointee.output_height {
            let y = Int(dinfo.pointee.output_scanline)
            row.withUnsafeMutableBufferPointer { r in
                var p: UnsafeMutablePointer<UInt8>? = r.baseAddress
                _ = jpeg_read_scanlines(dinfo, &p, 1)
            }
            for i in 0..<(w * 3) { out[y * w * 3 + i] = row[i] }
        }
        jpeg_finish_decompress(dinfo)
        jpeg_destroy_decompress(dinfo)
        return out
    }
}
