"""Runs inside a Python that has AccelForge (a venv of its own): evaluates one specification (the architecture file,
the workload + mapping file cosearch wrote, the template variables) with AccelForge's model, or maps the workload
with its mapper FFM, and prints one JSON line: energy, latency, energy per component, seconds (CPU seconds of this
process, where FFM runs on one core: its parallel workers would take CPU time this process does not count)."""
import json
import os
import sys
import tempfile
import time


def main() -> None:
    import accelforge as af
    from accelforge.mapper.FFM.mappings import Mappings
    from accelforge.util.parallel import set_n_parallel_jobs

    set_n_parallel_jobs(1)

    Mappings.render = lambda self, *args, **kwargs: ""      # FFM's mapping.svg needs Graphviz; the picture is skipped
    request = json.loads(sys.argv[1])
    start = time.process_time()
    spec = af.Spec.from_yaml(*request["files"], jinja_parse_data=request.get("jinja", {}))
    if request.get("map"):
        os.chdir(tempfile.mkdtemp())                          # where FFM writes its files
        result = spec.map_workload_to_arch(print_progress=False)
    else:
        result = spec.evaluate_mapping()
    seconds = time.process_time() - start
    print(json.dumps({"energy": float(result.energy()), "latency": float(result.latency()), "seconds": seconds,
                      "per_component": {k: float(v) for k, v in result.energy(per_component=True).items()}}))


if __name__ == "__main__":
    main()
