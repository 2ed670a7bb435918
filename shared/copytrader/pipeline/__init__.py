"""The copy pipeline's four steps (score, size, risk_check, execute) and their dependencies.

`steps` holds one function per Lambda: parse the state-machine input, load what the pure domain
function needs, call it, persist, return JSON. `deps` builds the adapters once per process.
"""
