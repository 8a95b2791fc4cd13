"""`latentwalk serve`: the live explorer over the models given (server.py, which needs FastAPI)."""

from __future__ import annotations

from ..command import Arg, Command
from ..errors import ConfigError
from ..measure import classifier
from ..run.model_source import Source


def serve_models(sources: list[Source], no_classifier: bool, port: int, host: str, token: str,
                 no_token: bool) -> None:
    """Serve the models until interrupted; the digit classifier scores what they decode unless switched off."""
    try:
        from .server import serve
    except ImportError:
        raise ConfigError("the explorer needs FastAPI and uvicorn: pip install 'latentwalk[serve]'") from None
    if no_token and token:
        raise ConfigError("give `token` or `no_token`, not both")
    serve(sources, host, port, None if no_classifier else classifier.load(), None if no_token else token,
          log=lambda s: print(s, flush=True))


SERVE = Command("serve", "the live explorer: a local web page over trained runs", serve_models, models="many",
                models_help="run folders (an AE and a VAE are shown side by side)", args=(
                    Arg("--no-classifier", action="store_true", help="skip the digit classifier's scores"),
                    Arg("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)"),
                    Arg("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)"),
                    Arg("--token", default="", help="the token the URL carries (default: a random one)"),
                    Arg("--no-token", action="store_true", help="serve without a token (127.0.0.1 only)")))
COMMANDS = (SERVE,)
