"""The Gradio app: builds the page around one `Analyzer`; holds no model logic."""

import gradio as gr
import numpy as np
import torch

from demo.plots import au_bars, va_circumplex
from fatauva import topology
from fatauva.analyze import Analyzer, Prediction
from fatauva.checkpoint import LoadedModel, load_model

TITLE = "FATAUVA-Net Studio"


def load_analyzer(source: str | None = None) -> Analyzer:
    """Resolve weights (explicit source / FATAUVA_MODEL, then the bundled checkpoint) and wrap them."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return Analyzer(load_model(source, device=device))


def weights_banner(loaded: LoadedModel) -> str:
    """One plain paragraph that says which weights run, and warns when they are untrained or synthetic."""
    text = f"**Weights:** {loaded.kind} — `{loaded.location}`"
    if loaded.sha256:
        text += f" (sha256 `{loaded.sha256[:12]}`)"
    if loaded.kind == "untrained":
        text += "\n\n⚠️ No trained weights were found: this model is **untrained** and its outputs are noise."
    elif loaded.kind == "bundled":
        text += (
            "\n\nThese bundled weights were trained on **synthetic faces only** (SynthFACS); "
            "treat predictions on real photos as a demonstration, not a measurement."
        )
    real = real_photo_summary(loaded.metrics)
    if real:
        text += "\n\n" + real
    if loaded.tried:
        text += "\n\nTried before: " + "; ".join(loaded.tried)
    return text


def _realfaces_metrics(metrics: dict) -> dict | None:
    """The real-photo evaluation among a checkpoint's metrics: the whole of them when they are one
    evaluation, else the entry whose `data` is realfaces (train.publish keys it realfaces_<split>)."""
    if metrics.get("data") == "realfaces":
        return metrics
    found = [v for v in metrics.values() if isinstance(v, dict) and v.get("data") == "realfaces"]
    return found[0] if found else None


def neutral_baseline(metrics: dict) -> dict[int, float] | None:
    """AU -> the mean P(AU) the weights' realfaces evaluation measured on neutral London photos."""
    real = _realfaces_metrics(metrics or {})
    means = ((real or {}).get("au_mean_prob") or {}).get("neutral") or {}
    keys = dict(zip(topology.AU_KEYS, topology.AUS, strict=True))
    found = {keys[k]: float(v) for k, v in means.items() if k in keys and isinstance(v, (int, float))}
    return found or None


def va_references(metrics: dict) -> dict[str, tuple[float, float]] | None:
    """Kind of face -> the mean (valence, arousal) of the weights' realfaces evaluation (London test)."""
    real = _realfaces_metrics(metrics or {})
    means = (real or {}).get("va_mean") or {}
    found = {
        name: (float(va["valence"]), float(va["arousal"]))
        for name, va in means.items()
        if isinstance(va, dict)
        and isinstance(va.get("valence"), float)
        and isinstance(va.get("arousal"), float)
    }
    return found or None


def real_photo_summary(metrics: dict) -> str | None:
    """What the checkpoint's own real-photo evaluation (train.evaluate --data realfaces) measured, in
    one sentence a visitor can weigh a prediction by; None when it has none. Only figures present are
    named."""
    real = _realfaces_metrics(metrics or {})
    if not real:
        return None
    london = []
    if isinstance(real.get("smile_auc"), float):
        smile = f"Smiling ranks smiling above neutral faces with AUC {real['smile_auc']:.2f}"
        if isinstance(real.get("smile_accuracy"), float):
            smile += f" and is right at 0.5 on {real['smile_accuracy']:.0%} of them"
        london.append(smile)
    neutral = (real.get("au_mean_prob") or {}).get("neutral") or {}
    if isinstance(real.get("neutral_au_rate"), float):
        calls = f"on the neutral ones {real['neutral_au_rate']:.0%} of AU calls are false alarms"
        at_rest = {topology.au_key(au) for au in topology.AT_REST_AUS}
        expected = {k: v for k, v in neutral.items() if k not in at_rest}
        if expected:
            worst = max(expected, key=expected.get)
            calls += f", {worst} the most (mean P {expected[worst]:.2f})"
        london.append(calls)
    parts = ["on the London test photos, " + "; ".join(london)] if london else []
    if isinstance(real.get("male_accuracy"), float):
        n = real.get("n_faces")
        parts.append(
            f"Male is right on {real['male_accuracy']:.0%}" + (f" of {n} faces" if isinstance(n, int) else "")
        )
    if not parts:
        return None
    return "Measured on real photos these weights never trained on: " + "; ".join(parts) + "."


def attribute_rows(pred: Prediction) -> list[list]:
    return [
        [name, topology.ATTRIBUTE_PART[name], round(p, 3), "yes" if p >= 0.5 else "no"]
        for name, p in pred.attributes.items()
    ]


def analyze(analyzer: Analyzer, image: np.ndarray | None):
    """Handler: photo -> (crop, attribute rows, AU figure, V-A figure, JSON, status)."""
    if image is None:
        raise gr.Error("Upload a photo or pick an example first.")
    preds = analyzer.analyze_image(image, max_faces=1)
    if not preds:
        raise gr.Error("No face was found in this photo. Try a frontal face that fills more of the frame.")
    pred = preds[0]
    box = pred.face
    status = f"Face found at ({box.x0:.0f}, {box.y0:.0f})–({box.x1:.0f}, {box.y1:.0f})."
    return (
        pred.crop,
        attribute_rows(pred),
        au_bars(pred.aus, neutral=neutral_baseline(analyzer.loaded.metrics)),
        va_circumplex(pred.valence, pred.arousal, va_references(analyzer.loaded.metrics)),
        pred.as_dict(),
        status,
    )


def build_app(analyzer: Analyzer) -> gr.Blocks:
    """The page: a photo in; the aligned crop, the ten attributes, the 14 AUs and V-A out."""
    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"# {TITLE}\nFacial attributes, action units and valence-arousal from AU features.")
        gr.Markdown(weights_banner(analyzer.loaded))
        with gr.Row():
            with gr.Column(scale=1):
                photo = gr.Image(label="Photo", type="numpy", sources=["upload", "webcam", "clipboard"])
                run = gr.Button("Analyze", variant="primary")
                status = gr.Markdown()
                crop = gr.Image(
                    label="Aligned face crop (the network's input)", type="numpy", interactive=False
                )
            with gr.Column(scale=2):
                attributes = gr.Dataframe(
                    headers=["attribute", "part branch", "P(present)", "present"], label="Attributes"
                )
                with gr.Row():
                    aus = gr.Plot(label="Action units")
                    va = gr.Plot(label="Valence-arousal")
                details = gr.JSON(label="All outputs")
        run.click(
            lambda image: analyze(analyzer, image),
            inputs=photo,
            outputs=[crop, attributes, aus, va, details, status],
            api_name="analyze",
        )
    return app
