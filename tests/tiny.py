"""The smallest FatauvaNet the tests build: the paper's wiring (two core groups of one rPoly block,
every branch) at widths of a few channels, so a test reads the behaviour, not the capacity."""

from fatauva.model import FatauvaConfig

TINY_SETTINGS = dict(
    input_size=32,
    stem_width=8,
    core_widths=(8, 16),
    core_strides=(2, 2),
    core_blocks=(1, 1),
    part_width=8,
    au_width=4,
    va_width=8,
    fc_hidden=(8, 4),
)


def tiny_config(**overrides) -> FatauvaConfig:
    """The tiny configuration with `overrides` on top."""
    return FatauvaConfig(**{**TINY_SETTINGS, **overrides})
