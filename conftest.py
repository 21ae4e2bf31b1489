"""Makes the repository root importable for the tests and keeps torch to the machine's cores.

OpenMP threads wait passively: on a shared 2-core machine spin-waiting threads stall each
small op of a forward pass behind a descheduled partner (measured: tests/test_model.py about
100 s spinning vs 13 s passive under load). Set before torch loads its OpenMP runtime.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
