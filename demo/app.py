"""The Gradio app: tabs around one `Analyzer`, the `/analyze` endpoint and the request queue.

Tabs today: Analyze and Model; Live, Video and Face Lab (part 2) each add one `build` function
to TABS. Every tab opens with the same line saying which weights run and their caveat
(demo.model_page.usage_line, read from the model card and metrics, never hard-coded).
"""

import gradio as gr

from demo import analyze_tab, explanations, facelab_tab, live_tab, model_page, video_tab
from demo.serving import load_analyzer
from fatauva.analyze import Analyzer
from fatauva.checkpoint import model_info

__all__ = ["build_app", "load_analyzer"]

TITLE = "FATAUVA-Net Studio"
# Two analyses at a time keep the 2-core machine responsive; 32 waiting requests bound the memory
# the queue can hold (each holds one decoded photo, at most demo.images.MAX_PIXELS).
CONCURRENCY = 2
QUEUE_SIZE = 32
# System fonts: the default theme fetches Google Fonts, which a machine without network waits on.
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
)


def build_model_tab(analyzer: Analyzer) -> None:
    info = model_info(analyzer.loaded)
    gr.Markdown(model_page.source_markdown(info))
    with gr.Accordion("Configuration (config.json)", open=False):
        gr.Markdown(model_page.config_markdown(info))
    with gr.Accordion("Evaluation (metrics.json)", open=True):
        gr.Markdown(model_page.evaluation_markdown(info))
    gr.Markdown(model_page.faithfulness_markdown(info))


TABS = (
    ("Analyze", analyze_tab.build),
    ("Live", live_tab.build),
    ("Video", video_tab.build),
    ("Face Lab", facelab_tab.build),
    ("Model", build_model_tab),
)


def build_api(analyzer: Analyzer) -> None:
    """The named endpoint `/analyze`: (image file, maps?, method, layer) -> the analysis as JSON, with
    every face's maps, verdicts and flow when maps is true (analyze_tab.api_analyze); no visible UI."""
    with gr.Row(visible=False):
        image = gr.File(label="image", type="filepath")
        maps = gr.Checkbox(label="maps", value=False)
        method = gr.Dropdown(list(explanations.METHODS), value=explanations.DEFAULT_METHOD, label="method")
        layer = gr.Dropdown(
            explanations.layer_choices(analyzer), value=explanations.DEFAULT_LAYER, label="layer"
        )
        result = gr.JSON(label="analysis")
        trigger = gr.Button("analyze")
    trigger.click(
        lambda path, with_maps, how, where: analyze_tab.api_analyze(analyzer, path, with_maps, how, where),
        inputs=[image, maps, method, layer],
        outputs=result,
        api_name="analyze",
    )


def build_app(analyzer: Analyzer) -> gr.Blocks:
    """The whole page for `analyzer`, queued (CONCURRENCY at a time, QUEUE_SIZE waiting)."""
    line = model_page.usage_line(model_info(analyzer.loaded))
    with gr.Blocks(title=TITLE, delete_cache=(3600, 3600)) as app:
        gr.Markdown(f"# {TITLE}\nFacial attributes, action units and valence-arousal read from AU features.")
        with gr.Tabs():
            for name, build in TABS:
                with gr.Tab(name):
                    gr.Markdown(line, elem_classes="weights-line")
                    build(analyzer)
        build_api(analyzer)
    return app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
