"""FATAUVA-Net (Chang, Hsu, Chien, CVPRW 2017): core -> parts -> AUs -> valence/arousal.

Reading order: `FatauvaConfig` (every width is data), `FatauvaOutput` (what one forward
returns), then `FatauvaNet`. The wiring (which part carries which attributes, which AU branch
grows on which part, which AU branches feed valence and arousal) is read from
`fatauva.topology` and nowhere spelled out here.

Sibling branches run as ONE grouped convolution (the 4 part branches as groups=4, the 9 AU
branches as groups=9, the 2 V-A branches as groups=2): branch i owns channel slice i of the
layer's output. Each slice passes through its own `nn.Identity` "tap" before anything reads
it, so every branch map has a module (`feature_modules()`) that Grad-CAM can hook, and the
gradients it records are the true gradients of that branch. Con_Val and Con_Aro, the inputs
of the two V-A branches (§3.3), have taps too (`con_val`, `con_aro`): captum attributes a V-A
output to the AU branches through them. The two may concatenate different numbers of
branches: the grouped V-A conv then reads each zero-padded to the longer one (zeros add
nothing), which keeps the weight names and shapes of every checkpoint with equal counts.

No `from __future__ import annotations` here: PyTorchModelHubMixin reads the annotation of
`config` at run time to rebuild the dataclass from config.json.
"""

import copy
from dataclasses import dataclass, fields

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor, nn
from torch.nn import functional as F

from fatauva import topology
from fatauva.blocks import conv_bn_relu, fold_batchnorm, rpoly_stack
from fatauva.heads import GroupedMLP, decode_va_classes
from fatauva.template import DEFAULT_INPUT_SIZE

VA_HEADS = ("reg", "cls")
# Feature names of the V-A branches' inputs, in topology.VA_TARGETS order (§3.3: Con_Val, Con_Aro).
CON_NAMES = ("con_val", "con_aro")


@dataclass
class FatauvaConfig:
    """Hyper-parameters of the network; the paper fixes only the block counts (§4.1.2).

    Widths are per branch: a part branch has `part_width` channels, an AU branch `au_width`,
    a V-A branch `va_width`. The core is a stem conv (stride 2) followed by groups of rPoly-2
    blocks; group g starts with a 3x3 conv of stride `core_strides[g]` to `core_widths[g]`
    channels and holds `core_blocks[g]` blocks (§4.1.2 has 8 in all; the default has 7, four
    of them at 28x28, docs/architecture.md row 11). The attribute layer starts with a conv of
    stride `part_stride`, the AU layer with one of stride `au_stride`, the V-A layer with its
    1x1 reduction conv (§3.3). `reduction` is the bottleneck ratio of
    F inside every rPoly block; `fc_hidden` the widths of the first two of the three FC layers
    of every head (§4.1.3), the second being the V-A embedding of the centre loss.
    `head_grid` is what those FC layers read from a branch map: 1 is its global average
    (C values), k > 1 its average over a k x k grid of cells, flattened (C * k * k values).
    The paper appends its FC layers to the layer itself (Caffe's FC flattens the whole map),
    so position survives into the heads; a coarse grid keeps where a response sits (brow
    height against the eye, lip line against the corners) at a fraction of the parameters of
    a 14 x 14 flatten. Checkpoints written before the setting existed are global averages.

    The defaults are the shipped configuration: the network the bundled weights, the app and
    `python -m bench` run, equal to the "model" section of `train/configs/bundled.json` (0.67 M
    parameters, 0.39 GFLOPs at 112 px; core and branch maps 14x14, so a Grad-CAM cell is 8 px).
    Other sizes are named presets (`PRESETS`, `FatauvaConfig.preset`); how their widths were
    chosen is in docs/speed.md.
    """

    input_size: int = DEFAULT_INPUT_SIZE
    va_head: str = "reg"
    use_au_layer: bool = True
    stem_width: int = 16
    core_widths: tuple[int, ...] = (32, 64, 96)
    core_strides: tuple[int, ...] = (2, 2, 1)
    core_blocks: tuple[int, ...] = (4, 2, 1)
    part_width: int = 48
    part_stride: int = 1
    part_blocks: int = 2
    au_width: int = 16
    au_stride: int = 1
    au_blocks: int = 2
    va_width: int = 32
    va_blocks: int = 2
    reduction: int = 2
    fc_hidden: tuple[int, int] = (64, 32)
    dropout: float = 0.0
    head_grid: int = 1

    def __post_init__(self) -> None:
        # JSON (config.json of the Hub mixin) turns tuples into lists.
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                setattr(self, f.name, tuple(value))
        if self.va_head not in VA_HEADS:
            raise ValueError(f"va_head must be one of {VA_HEADS}, got {self.va_head!r}")
        if self.head_grid < 1:
            raise ValueError(f"head_grid must be at least 1 (1 = global average pool), got {self.head_grid}")
        if not len(self.core_widths) == len(self.core_strides) == len(self.core_blocks):
            raise ValueError("core_widths, core_strides and core_blocks must have the same length")

    @classmethod
    def preset(cls, name: str, **overrides: object) -> "FatauvaConfig":
        """The named size `name` of PRESETS, with `overrides` on top."""
        if name not in PRESETS:
            raise ValueError(f"no FatauvaConfig preset {name!r}; presets: {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})


# Named sizes, as settings over the defaults. "shipped" is the default itself; "wide" (3.8 M
# parameters, 2.4 GFLOPs at 112 px) is the width `python -m bench` favoured on this CPU before any
# was trained at it (docs/speed.md), with the core's blocks split as they were then; no bundled
# weights have it.
PRESETS: dict[str, dict[str, object]] = {
    "shipped": {},
    "wide": {
        "stem_width": 32,
        "core_widths": (96, 192, 256),
        "core_blocks": (2, 3, 3),
        "part_width": 64,
        "au_width": 32,
        "va_width": 64,
        "fc_hidden": (128, 64),
    },
}


@dataclass
class FatauvaOutput:
    """One forward pass. Orders: topology.ATTRIBUTES, topology.AUS, topology.VA_TARGETS.

    attribute_logits (N, 10, 2); au_logits (N, 14, 2); va_logits (N, 2, 11) for the class
    head or (N, 2) raw values for the regression head; va_embedding (N, 2, D) the V-A heads'
    penultimate FC features; features: branch name -> (N, C, H, W) map, as feature_modules().
    """

    attribute_logits: Tensor
    au_logits: Tensor
    va_logits: Tensor
    va_embedding: Tensor
    features: dict[str, Tensor]
    va_head: str

    def attribute_probs(self) -> Tensor:
        """(N, 10) P(attribute present)."""
        return self.attribute_logits.softmax(dim=-1)[..., 1]

    def au_probs(self) -> Tensor:
        """(N, 14) P(AU present)."""
        return self.au_logits.softmax(dim=-1)[..., 1]

    def va(self) -> Tensor:
        """(N, 2) valence, arousal in [-1, 1]: the §4.1.3 top-3 rule, or the clipped regression."""
        if self.va_head == "cls":
            return decode_va_classes(self.va_logits)
        return self.va_logits.clamp(-1.0, 1.0)


def _head_index(names: tuple, owner: dict, branches: tuple[str, ...]) -> Tensor:
    """For each head (in `names` order), the index of the branch it sits on."""
    return torch.tensor([branches.index(owner[n]) for n in names], dtype=torch.long)


def va_source_groups(
    use_au_layer: bool, va_inputs: dict[str, tuple[str, ...]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Per V-A target, the branch feature names concatenated into its input (§3.3, Fig. 5):
    {'valence': Con_Val, 'arousal': Con_Aro}, in topology.VA_TARGETS order.

    With the AU layer: the AU branches of `va_inputs` (default topology.VA_INPUTS). Without it
    (the FATVA ablation of §4.4) the V-A layer reads the part branches directly: for each
    target, the distinct parts that carry its AU branches, in first-seen order. With the
    paper's wiring both valence and arousal then read eyes, eyebrows and mouth, never the face.
    The targets may read different numbers of branches.
    """
    va_inputs = topology.VA_INPUTS if va_inputs is None else va_inputs
    part_of = {b.name: b.part for b in topology.AU_BRANCHES}
    groups = {}
    for target, branches in va_inputs.items():
        if use_au_layer:
            groups[target] = tuple(f"au.{b}" for b in branches)
        else:
            groups[target] = tuple(f"part.{p}" for p in dict.fromkeys(part_of[b] for b in branches))
    return groups


class FatauvaNet(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="fatauva",
    tags=["facial-attributes", "action-units", "valence-arousal", "affective-computing", "fatauva-net"],
):
    """FATAUVA-Net. forward: x (N, 3, S, S) from fatauva.template.to_tensor -> FatauvaOutput."""

    def __init__(self, config: FatauvaConfig | None = None):
        super().__init__()
        self.config = config or FatauvaConfig()
        self._hub_mixin_config = self.config  # so that a default-built model also writes config.json
        c = self.config
        n_parts, n_aus, n_va = len(topology.PARTS), len(topology.AU_BRANCHES), len(topology.VA_TARGETS)
        self._stages: frozenset[int] = frozenset()
        self._channels_last = False

        # Core layer (§3, Fig. 2): stem + groups of rPoly-2 blocks (§4.1.2: 8 in total).
        core: list[nn.Module] = [conv_bn_relu(3, c.stem_width, 3, stride=2)]
        width = c.stem_width
        for w, s, n in zip(c.core_widths, c.core_strides, c.core_blocks, strict=True):
            core += [conv_bn_relu(width, w, 3, stride=s), rpoly_stack(w, 2, n, c.reduction)]
            width = w
        self.core = nn.Sequential(*core)
        self.core_tap = nn.Identity()
        # 'core.fine': the core's map just before its last downsampling (28x28 on a 112 crop), the
        # last place where the core still localises (docs/explanations.md); a tap, no weights.
        downsampling = [g for g, s in enumerate(c.core_strides) if s > 1]
        self._fine_index = 2 * downsampling[-1] if downsampling else len(core) - 1
        self.core_fine_tap = nn.Identity()

        # Attribute layer (§3.1, Table 2): one branch per facial part, 2 rPoly-2 blocks each.
        # The entry conv reads the shared core map, so the 4 branch convs are one dense conv.
        self.part_branches = nn.Sequential(
            conv_bn_relu(width, n_parts * c.part_width, 3, stride=c.part_stride),
            rpoly_stack(n_parts * c.part_width, 2, c.part_blocks, c.reduction, groups=n_parts),
        )
        self.part_taps = nn.ModuleDict({p: nn.Identity() for p in topology.PARTS})
        cells = c.head_grid**2  # FC input per channel: the cells of the head grid
        n_attrs = len(topology.ATTRIBUTES)
        self.attribute_heads = GroupedMLP(n_attrs, c.part_width * cells, c.fc_hidden, 2, c.dropout)

        # AU layer (§3.2, Table 3): each branch grows on its part branch, 2 rPoly-3 blocks each.
        self.au_branches = nn.Sequential(
            conv_bn_relu(n_aus * c.part_width, n_aus * c.au_width, 3, stride=c.au_stride, groups=n_aus),
            rpoly_stack(n_aus * c.au_width, 3, c.au_blocks, c.reduction, groups=n_aus),
        )
        self.au_taps = nn.ModuleDict({b: nn.Identity() for b in topology.AU_BRANCH_NAMES})
        self.au_heads = GroupedMLP(len(topology.AUS), c.au_width * cells, c.fc_hidden, 2, c.dropout)

        # V-A layer (§3.3, Fig. 5): Con_Val / Con_Aro -> 1x1 conv for dimension reduction
        # -> 2 rPoly-3 blocks -> 3 FC layers (§4.1.3). Each target's input is padded with zero
        # channels to the longest one, so that the 1x1 reductions stay one grouped conv.
        self.va_groups = va_source_groups(c.use_au_layer)
        source_width = c.au_width if c.use_au_layer else c.part_width
        self._va_input_width = max(len(g) for g in self.va_groups.values()) * source_width
        self.va_branches = nn.Sequential(
            conv_bn_relu(n_va * self._va_input_width, n_va * c.va_width, 1, groups=n_va),
            rpoly_stack(n_va * c.va_width, 3, c.va_blocks, c.reduction, groups=n_va),
        )
        self.con_taps = nn.ModuleDict({t: nn.Identity() for t in topology.VA_TARGETS})
        self.va_taps = nn.ModuleDict({t: nn.Identity() for t in topology.VA_TARGETS})
        va_out = len(topology.VA_CLASS_VALUES) if c.va_head == "cls" else 1
        self.va_heads = GroupedMLP(n_va, c.va_width * cells, c.fc_hidden, va_out, c.dropout)

        self.register_buffer(
            "attribute_part", _head_index(topology.ATTRIBUTES, topology.ATTRIBUTE_PART, topology.PARTS), False
        )
        self.register_buffer(
            "au_branch", _head_index(topology.AUS, topology.AU_BRANCH, topology.AU_BRANCH_NAMES), False
        )

    # ----- forward -------------------------------------------------------------------------
    def forward(self, x: Tensor) -> FatauvaOutput:
        features = self.part_maps(x)
        features.update(self._aus(features))
        features.update(self._vas(features))
        return self.heads(features)

    def heads(self, features: dict[str, Tensor]) -> FatauvaOutput:
        """The FC heads alone, on branch maps named as FatauvaOutput.features (every 'part.*',
        'au.*' and 'va.*' map): what `forward` ends with. Explanations call it on detached
        maps so that a backward from the heads stops at the branch maps."""
        attribute_logits, au_logits = self._attribute_logits(features), self._au_logits(features)
        va_logits, va_embedding = self._va_logits(features)
        return FatauvaOutput(
            attribute_logits, au_logits, va_logits, va_embedding, features, self.config.va_head
        )

    def stage_logits(self, x: Tensor, stage: int) -> tuple[Tensor, Tensor | None]:
        """What stage `stage` of §3 trains on, running the layers up to that stage only:
        1 -> (attribute_logits, None), 2 -> (au_logits, None), 3 -> (va_logits, va_embedding),
        shaped as in FatauvaOutput. Stage 1 skips the AU and V-A layers, which its loss never
        reads (docs/speed.md); the values equal those of `forward`."""
        if stage not in (1, 2, 3):
            raise ValueError(f"stage must be 1, 2 or 3, got {stage!r}")
        features = self.part_maps(x)
        if stage == 1:
            return self._attribute_logits(features), None
        features.update(self._aus(features))
        if stage == 2:
            return self._au_logits(features), None
        features.update(self._vas(features))
        return self._va_logits(features)

    def attribute_and_au_logits(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(attribute_logits, au_logits) as in `forward`, without the V-A layer: what a stage 1
        with an AU loss reads (`stage1.au_weight` of the trainer)."""
        features = self.part_maps(x)
        attribute_logits = self._attribute_logits(features)
        features.update(self._aus(features))
        return attribute_logits, self._au_logits(features)

    def part_maps(self, x: Tensor) -> dict[str, Tensor]:
        """The core and attribute-layer maps only, as in FatauvaOutput.features:
        {'core.fine': (N, C', 2H, 2W), 'core': (N, C, H, W), 'part.<part>': (N, C, H, W)},
        without running the later layers."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected a batch of RGB crops (N, 3, S, S), got shape {tuple(x.shape)}")
        if self._channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        for index, module in enumerate(self.core):
            x = module(x)
            if index == self._fine_index:
                x = fine = self.core_fine_tap(x)
        features = {"core.fine": fine, "core": self.core_tap(x)}
        features.update(self._split(self.part_branches(features["core"]), self.part_taps, "part"))
        return features

    def _aus(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        """AU-layer maps {'au.<branch>': ...}: each AU branch reads its parent part's map,
        stacked along channels (Table 3)."""
        au_input = torch.cat([features[f"part.{b.part}"] for b in topology.AU_BRANCHES], dim=1)
        return self._split(self.au_branches(au_input), self.au_taps, "au")

    def _vas(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        """Con_Val and Con_Aro {'con_val': ..., 'con_aro': ...} (§3.3), each the concatenation
        of its branches' maps through its tap, and the V-A-layer maps {'va.<target>': ...}."""
        cons = {
            target: torch.cat([features[s] for s in sources], dim=1)
            for target, sources in self.va_groups.items()
        }
        return self.va_from_inputs(cons)

    def va_from_inputs(self, cons: dict[str, Tensor]) -> dict[str, Tensor]:
        """The V-A layer alone: {target: its concatenated input (N, C_t, H, W)} ->
        {'con_val', 'con_aro' (the tapped inputs), 'va.<target>' (N, va_width, H, W)}.
        What captum runs to attribute valence and arousal to the AU branches."""
        out, padded = {}, []
        for (target, tap), name in zip(self.con_taps.items(), CON_NAMES, strict=True):
            con = out[name] = tap(cons[target])
            missing = self._va_input_width - con.shape[1]
            padded.append(F.pad(con, (0, 0, 0, 0, 0, missing)) if missing else con)
        out.update(self._split(self.va_branches(torch.cat(padded, dim=1)), self.va_taps, "va"))
        return out

    def au_logits_from_parts(self, part_maps: dict[str, Tensor]) -> Tensor:
        """The AU layer and its heads alone: {'part.<part>': (N, C, H, W)} -> au_logits (N, 14, 2).
        What captum runs to attribute the AUs to the part branches."""
        return self._au_logits(self._aus(part_maps))

    def va_logits_from_inputs(self, cons: dict[str, Tensor]) -> Tensor:
        """The V-A layer and its heads alone: {target: Con_Val / Con_Aro} -> va_logits as in
        FatauvaOutput. What captum runs to attribute valence and arousal to the AU branches."""
        return self._va_logits(self.va_from_inputs(cons))[0]

    def _attribute_logits(self, features: dict[str, Tensor]) -> Tensor:
        return self._heads(self.attribute_heads, features, "part.", self.attribute_part)[0]

    def _au_logits(self, features: dict[str, Tensor]) -> Tensor:
        return self._heads(self.au_heads, features, "au.", self.au_branch)[0]

    def _va_logits(self, features: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        va_logits, va_embedding = self._heads(self.va_heads, features, "va.")
        if self.config.va_head == "reg":
            va_logits = va_logits.squeeze(-1)
        return va_logits, va_embedding

    def _heads(
        self, heads: GroupedMLP, features: dict[str, Tensor], prefix: str, branch_of: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Run one layer's FC heads on its pooled branch maps (the features named `prefix`...);
        `branch_of[i]` is the branch head i reads (None: head i reads branch i)."""
        maps = {k: v for k, v in features.items() if k.startswith(prefix)}
        pooled = _pooled(maps, self.config.head_grid)
        return heads(pooled if branch_of is None else pooled.index_select(1, branch_of))

    @staticmethod
    def _split(maps: Tensor, taps: nn.ModuleDict, prefix: str) -> dict[str, Tensor]:
        """Channel slice i of a grouped layer's output -> branch i's tap; {'<prefix>.<name>': map}."""
        slices = maps.chunk(len(taps), dim=1)
        return {f"{prefix}.{name}": tap(s) for (name, tap), s in zip(taps.items(), slices, strict=True)}

    # ----- explanation hooks ---------------------------------------------------------------
    def feature_modules(self) -> dict[str, nn.Module]:
        """Branch name -> the module whose forward output is that branch's map (N, C, H, W).

        Names: 'core.fine' (the core before its last downsampling), 'core', 'part.<part>',
        'au.<AU branch>', 'con_val', 'con_aro' (the V-A branches' concatenated inputs),
        'va.<valence|arousal>', the same keys as FatauvaOutput.features; hook these as
        pytorch-grad-cam or captum layers.
        """
        modules: dict[str, nn.Module] = {"core.fine": self.core_fine_tap, "core": self.core_tap}
        for prefix, taps in (("part", self.part_taps), ("au", self.au_taps)):
            modules.update({f"{prefix}.{name}": tap for name, tap in taps.items()})
        modules.update(dict(zip(CON_NAMES, self.con_taps.values(), strict=True)))
        modules.update({f"va.{name}": tap for name, tap in self.va_taps.items()})
        return modules

    # ----- staged training (§3: attributes, then AUs, then V-A, each freezing the previous) --
    def stage_modules(self, stage: int) -> list[nn.Module]:
        """The modules trained in `stage` (1: core + attribute layer and heads, 2: AU, 3: V-A)."""
        groups = {
            1: [self.core, self.part_branches, self.attribute_heads],
            2: [self.au_branches, self.au_heads],
            3: [self.va_branches, self.va_heads],
        }
        if stage not in groups:
            raise ValueError(f"stage must be 1, 2 or 3, got {stage!r}")
        return groups[stage]

    def stage_parameters(self, stage: int) -> list[nn.Parameter]:
        """Parameters trained in `stage` (for the optimiser)."""
        return [p for m in self.stage_modules(stage) for p in m.parameters()]

    def set_stage(self, stage: int, *also: int) -> None:
        """Train only `stage`'s modules (and those of the stages in `also`): the rest get
        requires_grad False and, through `train()`, stay in eval mode so their BN statistics
        (and dropout) never move."""
        stages = frozenset((stage, *also))
        trainable = {id(p) for s in sorted(stages) for p in self.stage_parameters(s)}
        for p in self.parameters():
            p.requires_grad_(id(p) in trainable)
        self._stages = stages
        self.train(self.training)

    def train(self, mode: bool = True) -> "FatauvaNet":
        super().train(mode)
        if mode and self._stages:
            for stage in (1, 2, 3):
                if stage not in self._stages:
                    for m in self.stage_modules(stage):
                        m.eval()
        return self

    # ----- inference -------------------------------------------------------------------------
    def fused(self) -> "FatauvaNet":
        """An inference copy in eval mode: every BN folded into its conv, weights channels_last.
        Same outputs as `self.eval()` up to float rounding; not meant for training."""
        model = copy.deepcopy(self).eval()
        fold_batchnorm(model)
        model.to(memory_format=torch.channels_last)
        model._channels_last = True
        return model


def pool_cells(branch: Tensor, grid: int = 1) -> Tensor:
    """One branch map averaged over a grid x grid of cells and flattened, what its FC heads read:
    (N, C, H, W) -> (N, C * grid**2); grid 1 is the global average."""
    if grid == 1:
        return branch.mean(dim=(2, 3))
    return F.adaptive_avg_pool2d(branch, grid).flatten(1)


def _pooled(branches: dict[str, Tensor], grid: int = 1) -> Tensor:
    """`pool_cells` of every branch map, stacked: {name: (N, C, H, W)} -> (N, branches, C * grid**2)."""
    return torch.stack([pool_cells(m, grid) for m in branches.values()], dim=1)
