"""curate: curate LLM pretraining corpora the way DeepSeek LLM did, as composable stages."""

__version__ = "0.1.0"
