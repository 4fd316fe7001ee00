"""Language models for perplexity scoring: CCNet text normalisation, SentencePiece tokenisation,
a modified Kneser-Ney n-gram estimator that writes ARPA, and KenLM document scoring."""
