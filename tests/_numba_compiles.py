"""Source text a test's subprocess script starts with: a numba event listener that appends every function numba
compiles in that process to `compiled`, as "module.qualname (argument types)" (the subprocess tests of the cold
cache check which of the project's functions a first call compiles)."""

LISTENER = '''
from numba.core import event
compiled = []
class _Listener(event.Listener):
    def on_start(self, ev):
        pass
    def on_end(self, ev):
        d = ev.data["dispatcher"]
        compiled.append(f"{d.py_func.__module__}.{d.py_func.__qualname__} {tuple(ev.data['args'])}")
event.register("numba:compile", _Listener())
'''
