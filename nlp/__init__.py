"""Classification for GridBot: the responsibility catalogue, keyword and learned models, emergencies, similarity.

Knows nothing of Telegram or the database. Entry points: :func:`nlp.catalogue.load_catalogue`,
:class:`nlp.classifier.Classifier`, :func:`nlp.emergency.detect`, :func:`nlp.similarity.similarity`, matter-level
evaluation in :mod:`nlp.evaluation` and the CLI commands in :mod:`nlp.commands`.
"""
