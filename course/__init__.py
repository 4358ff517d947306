"""Your implementations, one folder per topic.

Importing ``course`` installs the kit's import hook, so ``course.tNN_*`` can be
answered by your files (the default), the reference, or a mix - see
``llmkit/resolver.py`` and the ``LLMKIT_IMPL`` environment variable.
"""

from llmkit.resolver import install_from_env as _install_from_env

_install_from_env()
