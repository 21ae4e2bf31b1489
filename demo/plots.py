"""Plotly figures of one prediction: AU bars and the valence-arousal circumplex (Russell, paper Fig. 1)."""

import itertools
import math

import plotly.graph_objects as go

from fatauva import topology

# Where the paper's Table 1 emotions sit on Russell's circumplex (paper Fig. 1), for orientation.
_CIRCUMPLEX_LABELS = {
    "happy": 20.0,
    "excited": 60.0,
    "surprised": 80.0,
    "afraid": 115.0,
    "angry": 135.0,
    "disgusted": 160.0,
    "sad": 210.0,
    "bored": 240.0,
    "calm": 320.0,
}

# (valence, arousal) where each emotion word of the circumplex is printed.
_WORD_PLACES = [
    (0.85 * math.cos(math.radians(a)), 0.85 * math.sin(math.radians(a))) for a in _CIRCUMPLEX_LABELS.values()
]

_VA_HOVER = "valence %{x:.2f}<br>arousal %{y:.2f}<extra></extra>"
_TRUTH = "#2ca02c"  # the true value of a face whose labels are known (SynthFACS), in both figures


def au_bars(
    aus: dict[int, float],
    threshold: float = 0.5,
    neutral: dict[int, float] | None = None,
    truth: dict[int, bool] | None = None,
) -> go.Figure:
    """Horizontal bars of P(AU present), one per AU of Table 3, red at or above `threshold`.

    `neutral`: AU -> the mean P these weights give on neutral real photos (their realfaces evaluation),
    drawn as a tick on each bar, so an AU the weights call on every face reads as no news.
    `truth`: AU -> whether the face really shows it (a SynthFACS render, whose AUs are known), drawn
    as a green diamond at P = 1 (present) or 0 (absent): a bar should reach its diamond."""
    labels = [f"{topology.au_key(au)} {topology.AU_NAMES[au]}" for au in aus]
    colors = ["#d62728" if p >= threshold else "#1f77b4" for p in aus.values()]
    fig = go.Figure(
        go.Bar(
            x=list(aus.values()),
            y=labels,
            orientation="h",
            marker_color=colors,
            name="this face",
            customdata=[topology.AU_BRANCH[au] for au in aus],
            hovertemplate="%{y}<br>P=%{x:.2f}<br>branch %{customdata}<extra></extra>",
        )
    )
    if neutral:
        shown = [au for au in aus if au in neutral]
        fig.add_trace(
            go.Scatter(
                x=[neutral[au] for au in shown],
                y=[labels[list(aus).index(au)] for au in shown],
                mode="markers",
                marker=dict(symbol="line-ns", size=18, line=dict(width=3, color="black")),
                name="mean on neutral real photos",
                hovertemplate="%{y}<br>mean P on neutral real photos=%{x:.2f}<extra></extra>",
            )
        )
    if truth:
        shown = [au for au in aus if au in truth]
        fig.add_trace(
            go.Scatter(
                x=[1.0 if truth[au] else 0.0 for au in shown],
                y=[labels[list(aus).index(au)] for au in shown],
                mode="markers",
                marker=dict(symbol="diamond", size=11, color=_TRUTH, line=dict(width=1, color="white")),
                name="truth (present = 1, absent = 0)",
                customdata=["present" if truth[au] else "absent" for au in shown],
                hovertemplate="%{y}<br>truth: %{customdata}<extra></extra>",
            )
        )
    fig.add_vline(x=threshold, line_dash="dot", line_color="grey")
    fig.update_layout(
        showlegend=bool(neutral or truth),
        legend=dict(orientation="h", yanchor="top", y=-0.15, x=0),
        xaxis=dict(range=[0, 1], title="P(present)"),
        yaxis=dict(autorange="reversed"),
        height=420,
        margin=dict(l=10, r=10, t=30, b=10),
        title="Action units",
    )
    return fig


# Text and marker sizes in data units of the circumplex (its axes span 2.2 units in 420 px, square):
# a character of 11 px text is about 0.075 wide and a line 0.12 tall; a label sits 0.07 off its mark.
_CHAR_W, _TEXT_H, _LABEL_GAP = 0.075, 0.12, 0.07
_MARK_W, _POINT_W = 0.1, 0.14  # room kept around a reference mark (12 px) and the face's point (16 px)
_Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _box(x: float, y: float, width: float, height: float) -> _Box:
    return (x - width / 2, y - height / 2, x + width / 2, y + height / 2)


def _overlap(a: _Box, b: _Box) -> float:
    """The area two boxes share (0 when apart)."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


_WORD_BOXES = [
    _box(x, y, _CHAR_W * len(word), _TEXT_H)
    for word, (x, y) in zip(_CIRCUMPLEX_LABELS, _WORD_PLACES, strict=True)
]


def _reference_label(name: str) -> str:
    return f"mean {name}"


def _label_box(text: str, x: float, y: float, position: str) -> _Box:
    up = 1.0 if position == "top center" else -1.0
    return _box(x, y + up * (_LABEL_GAP + _TEXT_H / 2), _CHAR_W * len(text), _TEXT_H)


def _label_positions(references: dict[str, tuple[float, float]], point: tuple[float, float]) -> list[str]:
    """Above or below each reference mark, per mark in `references` order: the choice whose labels
    cover the least of the emotion words, the marks (the face's point included) and each other."""
    marks = [_box(x, y, _MARK_W, _MARK_W) for x, y in references.values()]
    marks.append(_box(*point, _POINT_W, _POINT_W))
    texts = [(_reference_label(name), x, y) for name, (x, y) in references.items()]

    def covered(positions: tuple[str, ...]) -> float:
        labels = [_label_box(*t, p) for t, p in zip(texts, positions, strict=True)]
        fixed = sum(_overlap(label, other) for label in labels for other in _WORD_BOXES + marks)
        return fixed + sum(_overlap(a, b) for a, b in itertools.combinations(labels, 2))

    # min keeps the first of equals: labels above their marks when nothing is in the way.
    return list(min(itertools.product(("top center", "bottom center"), repeat=len(texts)), key=covered))


def va_circumplex(
    valence: float,
    arousal: float,
    references: dict[str, tuple[float, float]] | None = None,
    truth: tuple[float, float] | None = None,
) -> go.Figure:
    """The predicted point in V-A space, inside the unit circle with emotion words for orientation.

    `references`: name -> (valence, arousal) where these weights put a kind of face on average (their
    realfaces evaluation: neutral and smiling photos), drawn as open grey markers so a visitor can see
    the prediction against them. `truth`: the face's true (valence, arousal) when it is known (a
    SynthFACS render), a green diamond labelled "truth". The face's own point is always the last trace."""
    theta = [2 * math.pi * i / 120 for i in range(121)]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[math.cos(t) for t in theta],
            y=[math.sin(t) for t in theta],
            mode="lines",
            line=dict(color="lightgrey"),
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[x for x, _ in _WORD_PLACES],
            y=[y for _, y in _WORD_PLACES],
            mode="text",
            text=list(_CIRCUMPLEX_LABELS),
            textfont=dict(color="grey"),
            hoverinfo="skip",
        )
    )
    references = references or {}
    positions = _label_positions(references, (valence, arousal))
    for (name, (v, a)), position in zip(references.items(), positions, strict=True):
        fig.add_trace(
            go.Scatter(
                x=[v],
                y=[a],
                mode="markers+text",
                marker=dict(size=12, symbol="circle-open", color="dimgrey", line=dict(width=2)),
                text=[_reference_label(name)],
                textposition=position,
                textfont=dict(color="dimgrey", size=11),
                name=f"mean of {name} real photos",
                hovertemplate=f"mean of {name} real photos<br>" + _VA_HOVER,
            )
        )
    if truth is not None:
        fig.add_trace(
            go.Scatter(
                x=[truth[0]],
                y=[truth[1]],
                mode="markers+text",
                marker=dict(size=14, symbol="diamond", color=_TRUTH, line=dict(width=1, color="white")),
                text=["truth"],
                textposition="bottom center",
                textfont=dict(color=_TRUTH, size=11),
                name="truth",
                hovertemplate="truth<br>" + _VA_HOVER,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[valence],
            y=[arousal],
            mode="markers",
            marker=dict(size=16, color="#d62728"),
            hovertemplate=_VA_HOVER,
        )
    )
    fig.update_layout(
        xaxis=dict(range=[-1.1, 1.1], title="valence", zeroline=True),
        yaxis=dict(range=[-1.1, 1.1], title="arousal", zeroline=True, scaleanchor="x"),
        showlegend=False,
        height=420,
        margin=dict(l=10, r=10, t=30, b=10),
        title="Valence-arousal",
    )
    return fig
