"""Makes the repository root importable for the tests and keeps torch to the machine's cores."""

import os

import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
