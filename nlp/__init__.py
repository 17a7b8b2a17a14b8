"""Classification for GridBot: the responsibility catalogue, keyword and learned models, similarity.

Knows nothing of Telegram or the database. Entry points: :func:`nlp.catalogue.load_catalogue`,
:class:`nlp.classifier.Classifier`, :func:`nlp.similarity.similarity` and the CLI commands in :mod:`nlp.commands`.
"""
