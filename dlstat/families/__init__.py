"""Families: how a response is encoded, which link maps the network's output to the mean, and
which deviance the network minimises (training loss = mean deviance / 2, so a network without
hidden layers is exactly the GLM).  One table (``kinds.py``) defines each family once, one
(``links.py``) each link; ``fitted.py`` is a fit's family.  No TensorFlow here: the engine
evaluates the same formulas through ``ops.tf_ops()``.
"""

from .fitted import Family, LossKey, check_family, make_family
from .kinds import FAMILIES, FAMILY_KINDS, LINK_NAMES, TIES_NAMES, FamilyKind, family_kind
from .links import LINKS, Link

__all__ = ["FAMILIES", "FAMILY_KINDS", "LINKS", "LINK_NAMES", "Family", "FamilyKind", "Link",
           "LossKey", "TIES_NAMES", "check_family", "family_kind", "make_family"]
