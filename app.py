"""Start FATAUVA-Net Studio: `python app.py [--model SOURCE] [--host H] [--port P]`.

SOURCE is a local checkpoint folder or a Hugging Face Hub repo id with an optional @revision
(also read from FATAUVA_MODEL); without one the checkpoint bundled in weights/ runs, and an
unreachable Hub repo falls back to it with a message. Without --host and --port, Gradio's own
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT apply (a Hugging Face Space sets them), else 127.0.0.1:7860.
Importing this module builds the app without serving it (the Space imports nothing else).
"""

import argparse
import os

# Before torch loads (its OpenMP runtime reads this once): threads that wait passively between
# parallel ops. The app shares its cores with the browser, the queue's other request and, on a
# Space, other tenants; spinning threads then stall every batch-1 forward for a scheduler slice
# (the Live tab measured 1.6-2.2 updates/s spinning against 14.6-25 passive on busy cores; docs/app.md).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from demo.app import THEME, build_app, load_analyzer  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="FATAUVA-Net Studio")
    parser.add_argument("--model", help="local checkpoint folder or Hub repo id[@revision]")
    parser.add_argument(
        "--host",
        default=None,
        help="address to serve on (0.0.0.0 for all; default: GRADIO_SERVER_NAME, else 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=None, help="port to serve on (default: Gradio's, 7860)")
    return parser.parse_args(argv)


args = parse_args() if __name__ == "__main__" else parse_args([])
demo = build_app(load_analyzer(args.model))

if __name__ == "__main__":
    demo.launch(server_name=args.host, server_port=args.port, theme=THEME)
