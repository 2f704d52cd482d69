import CMPI
import Foundation
import NoisyStudent

/// The ranks of an `mpirun` as a data-parallel group: gradients summed with `MPI_Allreduce`
/// (OpenMPI). Made only when the environment says the process runs under mpirun, so a plain
/// run never initialises MPI.
public final class MPIGroup: DataParallelGroup {
    /// This process's rank in MPI_COMM_WORLD, 0..<size; rank 0 alone writes files.
    public let rank: Int
    /// Processes in MPI_COMM_WORLD.
    public let size: Int

    /// The world communicator when launched by OpenMPI's mpirun (`OMPI_COMM_WORLD_SIZE` set),
    /// else nil. Initialises MPI once; `finalize()` ends it.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> MPIGroup? {
        guard let text = environment["OMPI_COMM_WORLD_SIZE"], let n = Int(text), n >= 1 else { return nil }
        return MPIGroup()
    }

    private init() {
        MPI_Init(nil, nil)
        var r: Int32 = 0, s: Int32 = 1
        MPI_Comm_rank(cmpi_comm_world(), &r)
        MPI_Comm_size(cmpi_comm_world(), &s)
        rank = Int(r)
        size = Int(s)
    }

    /// Replaces `buffer` on every rank by the element-wise sum over ranks (MPI_Allreduce in place).
    /// Every rank must call it with the same count; a failure stops the program.
    public func allReduceSum(_ buffer: inout [Float]) {
        let count = Int32(buffer.count)
        let status = buffer.withUnsafeMutableBufferPointer { b in
            MPI_Allreduce(cmpi_in_place(), b.baseAddress, count, cmpi_float(), cmpi_sum(), cmpi_comm_world())
        }
        // MPI's default error handler aborts the job on failure; this is a second line of defence.
        precondition(status == 0, "MPI_Allreduce failed with \(status)")
    }

    /// The same sum for Doubles (`MPI_DOUBLE`): synchronised batch norm's per-channel sums.
    public func allReduceSum(_ buffer: inout [Double]) {
        let count = Int32(buffer.count)
        let status = buffer.withUnsafeMutableBufferPointer { b in
            MPI_Allreduce(cmpi_in_place(), b.baseAddress, count, cmpi_double(), cmpi_sum(), cmpi_comm_world())
        }
        precondition(status == 0, "MPI_Allreduce failed with \(status)")
    }

    /// Waits for every rank (e.g. before rank 0's files are read by the others).
    public func barrier() { MPI_Barrier(cmpi_comm_world()) }

    /// Ends MPI (call once, before the process exits).
    public func finalize() { MPI_Finalize() }
}
