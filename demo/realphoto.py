"""What the running weights' own real-photo evaluation (train.evaluate --data realfaces, saved in
metrics.json) measured, read for the plots and the Analyze tab: the neutral AU baseline, the V-A
means of neutral and smiling photos, and one summary sentence."""

from fatauva import topology


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
