"""
Thrown when the worker processes of a multiprocessing search cannot be
started (`launch_workers`, julia/parallel/processes.jl: hosts that `ssh`
cannot reach, a failing `srun`); the message names the hosts or the command
and the first error. Python raises it as `keplersr.WorkerProcessError`.
"""
struct WorkerStartError <: Exception
    msg::String
end
Base.showerror(io::IO, e::WorkerStartError) = print(io, e.msg)
