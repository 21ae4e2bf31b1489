"""Start the FATAUVA-Net Studio app: `python app.py [--model PATH_OR_REPO_ID] [--port N]`.

Weights resolve as `fatauva.checkpoint.load_model` does: --model, else FATAUVA_MODEL, else the
checkpoint bundled in weights/. Importing this module builds the app without serving it.
"""

import argparse

from demo.app import build_app, load_analyzer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="FATAUVA-Net Studio")
    parser.add_argument("--model", help="local checkpoint folder or Hugging Face Hub repo id")
    parser.add_argument("--port", type=int, default=None, help="port to serve on (default: Gradio's)")
    return parser.parse_args(argv)


args = parse_args() if __name__ == "__main__" else parse_args([])
demo = build_app(load_analyzer(args.model))

if __name__ == "__main__":
    demo.launch(server_port=args.port)
