"""Training one run across several processes and machines (Keras's distribution API on JAX),
and sweeps of many runs on Ray. Needs the ``cluster`` extra: ``pip install "cnnstudio[cluster]"``.
"""
