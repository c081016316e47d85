"""Package discovery plus the one package that lives outside educonnect_tui/: styles/.

Everything else is in pyproject.toml; setuptools merges the two.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["educonnect_tui*"]), "educonnect_tui.styles"])
