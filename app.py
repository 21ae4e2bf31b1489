"""Start FATAUVA-Net Studio: `python app.py [--model SOURCE] [--host H] [--port P]`.

SOURCE is a local checkpoint folder or a Hugging Face Hub repo id with an optional @revision
(also read from FATAUVA_MODEL); without one the checkpoint bundled in weights/ runs, and an
unreachable Hub repo falls back to it with a message. Importing this module builds the app
without serving it.
"""

import argparse

from demo.app import THEME, build_app, load_analyzer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="FATAUVA-Net Studio")
    parser.add_argument("--model", help="local checkpoint folder or Hub repo id[@revision]")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=None, help="port to serve on (default: Gradio's, 7860)")
    return parser.parse_args(argv)


args = parse_args() if __name__ == "__main__" else parse_args([])
demo = build_app(load_analyzer(args.model))

if __name__ == "__main__":
    demo.launch(server_name=args.host, server_port=args.port, theme=THEME)
