"""A process's own peak resident set size, for the benchmarks' Python side."""
import resource


def peak_rss_bytes():
    """VmHWM, this process's own high-water mark. On Linux ru_maxrss also counts the pages a child
    shares with its parent at fork, so a child of a large runner reports at least the runner's size."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
