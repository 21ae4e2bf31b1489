"""The wiring of the paper, checked against its own text (Table 2, Table 3, §3.3, §4.1.2).

The expected tables below are copied from the paper's text on purpose: they are the one
allowed second copy, so that a slip in fatauva/topology.py is caught here.
"""

from torch import nn

from fatauva import topology
from fatauva.blocks import RPoly
from fatauva.model import FatauvaConfig, FatauvaNet, va_source_groups

# Table 2: attribute layer -> attribute FC layers.
PAPER_TABLE_2 = {
    "face": {"Attractive", "Male", "No_Beard", "Young"},
    "eyebrows": {"Arched_Eyebrows", "Bushy_Eyebrows"},
    "eyes": {"Eyeglasses", "Narrow_Eyes"},
    "mouth": {"Mouth_Slightly_Open", "Smiling"},
}
# Table 3 (AU layer -> AU FC layers) and §3.2 (which part each AU branch is attached to).
PAPER_TABLE_3 = {
    "AU6_7": ("eyes", {6, 7}),
    "AU45": ("eyes", {45}),
    "AU1": ("eyebrows", {1}),
    "AU2": ("eyebrows", {2}),
    "AU4": ("eyebrows", {4}),
    "Chin": ("mouth", {17, 26}),
    "Lip_c": ("mouth", {12, 15}),
    "Lip_u": ("mouth", {10}),
    "Mouth_au": ("mouth", {23, 24, 25}),
}
# §3.3: the AU layers concatenated into Con_Val and Con_Aro.
PAPER_CON_VAL = {"AU6_7", "AU45", "AU4", "Lip_c", "Mouth_au"}
PAPER_CON_ARO = {"AU45", "AU1", "AU2", "AU4", "Chin"}


def test_part_attributes_are_table_2():
    assert {p: set(a) for p, a in topology.PART_ATTRIBUTES.items()} == PAPER_TABLE_2
    assert len(topology.ATTRIBUTES) == 10


def test_au_branches_are_table_3():
    assert {b.name: (b.part, set(b.aus)) for b in topology.AU_BRANCHES} == PAPER_TABLE_3
    assert len(topology.AUS) == 14  # "the total number of selected AU is 14"
    # every AU reads the part map its Table 3 branch is attached to
    assert topology.AU_PART == {au: part for part, aus in PAPER_TABLE_3.values() for au in aus}


def test_con_val_and_con_aro_are_section_3_3():
    assert set(topology.CON_VAL) == PAPER_CON_VAL
    assert set(topology.CON_ARO) == PAPER_CON_ARO
    assert topology.VA_TARGETS == ("valence", "arousal")


def test_va_classes_are_minus_5_to_5():
    assert topology.VA_CLASS_VALUES == tuple(range(-5, 6))


def rpoly_orders(module: nn.Module) -> list[int]:
    return [m.order for m in module.modules() if isinstance(m, RPoly)]


def test_mrpoly_net_block_counts_are_section_4_1_2():
    # "8 rPoly-2 blocks for core layer, 2 rPoly-2 blocks for attribute layer, 2 rPoly-3 blocks
    # for AU layer, and 2 rPoly-3 blocks V-A layer"; sibling branches share one grouped block.
    # The shipped core has 7 (docs/architecture.md, deviation 11); the paper's 8 is a setting.
    model = FatauvaNet()
    assert rpoly_orders(model.core) == [2] * 7
    assert rpoly_orders(FatauvaNet(FatauvaConfig(core_blocks=(2, 3, 3))).core) == [2] * 8
    assert rpoly_orders(model.part_branches) == [2] * 2
    assert rpoly_orders(model.au_branches) == [3] * 2
    assert rpoly_orders(model.va_branches) == [3] * 2
    for layer, n in ((model.part_branches, 4), (model.au_branches, 9), (model.va_branches, 2)):
        block_convs = [m for b in layer.modules() if isinstance(b, RPoly) for m in b.modules()]
        assert {m.groups for m in block_convs if isinstance(m, nn.Conv2d)} == {n}


def test_every_head_sits_on_the_branch_the_tables_name():
    model = FatauvaNet()
    parts = [topology.PARTS[i] for i in model.attribute_part.tolist()]
    assert {a: p for a, p in zip(topology.ATTRIBUTES, parts, strict=True)} == {
        a: p for p, attrs in PAPER_TABLE_2.items() for a in attrs
    }
    branches = [topology.AU_BRANCH_NAMES[i] for i in model.au_branch.tolist()]
    assert {au: b for au, b in zip(topology.AUS, branches, strict=True)} == {
        au: b for b, (_, aus) in PAPER_TABLE_3.items() for au in aus
    }


def test_va_layer_reads_con_val_then_con_aro():
    assert va_source_groups(use_au_layer=True) == {
        "valence": tuple(f"au.{b}" for b in topology.CON_VAL),
        "arousal": tuple(f"au.{b}" for b in topology.CON_ARO),
    }


def test_fatva_ablation_reads_the_parts_of_the_con_val_and_con_aro_branches():
    # Without the AU layer, valence and arousal both read the eyes, eyebrows and mouth parts
    # (the parts of their AU branches in Table 3); the face part feeds neither.
    per_target = ("part.eyes", "part.eyebrows", "part.mouth")
    assert va_source_groups(use_au_layer=False) == {"valence": per_target, "arousal": per_target}
    model = FatauvaNet(FatauvaConfig(use_au_layer=False))
    assert model.va_branches[0][0].in_channels == 2 * 3 * model.config.part_width
