"""Plotly figures of one prediction: AU bars and the valence-arousal circumplex (Russell, paper Fig. 1)."""

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


def au_bars(
    aus: dict[int, float], threshold: float = 0.5, neutral: dict[int, float] | None = None
) -> go.Figure:
    """Horizontal bars of P(AU present), one per AU of Table 3, red at or above `threshold`.

    `neutral`: AU -> the mean P these weights give on neutral real photos (their realfaces evaluation),
    drawn as a tick on each bar, so an AU the weights call on every face reads as no news."""
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
    fig.add_vline(x=threshold, line_dash="dot", line_color="grey")
    fig.update_layout(
        showlegend=bool(neutral),
        legend=dict(orientation="h", yanchor="top", y=-0.15, x=0),
        xaxis=dict(range=[0, 1], title="P(present)"),
        yaxis=dict(autorange="reversed"),
        height=420,
        margin=dict(l=10, r=10, t=30, b=10),
        title="Action units",
    )
    return fig


def _away_from_words(valence: float, arousal: float) -> str:
    """Where a reference mark's label goes: below the mark when the nearest emotion word sits above
    it, above otherwise, so the label does not print over that word."""
    _, word_y = min(_WORD_PLACES, key=lambda w: math.hypot(w[0] - valence, w[1] - arousal))
    return "bottom center" if word_y > arousal else "top center"


def va_circumplex(
    valence: float, arousal: float, references: dict[str, tuple[float, float]] | None = None
) -> go.Figure:
    """The predicted point in V-A space, inside the unit circle with emotion words for orientation.

    `references`: name -> (valence, arousal) where these weights put a kind of face on average (their
    realfaces evaluation: neutral and smiling photos), drawn as open grey markers so a visitor can see
    the prediction against them. The face's own point is always the last trace."""
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
    for name, (v, a) in (references or {}).items():
        fig.add_trace(
            go.Scatter(
                x=[v],
                y=[a],
                mode="markers+text",
                marker=dict(size=12, symbol="circle-open", color="dimgrey", line=dict(width=2)),
                text=[f"mean {name}"],
                textposition=_away_from_words(v, a),
                textfont=dict(color="dimgrey", size=11),
                name=f"mean of {name} real photos",
                hovertemplate=f"mean of {name} real photos<br>" + _VA_HOVER,
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
