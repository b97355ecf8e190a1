"""Scripts that rebuild the trained artefacts copybot ships (the sentiment heads, the house
copywriter). Run from the repository root (`python -m training.<name>`); none of this is installed
or imported by the bot: it reads only data written for the project."""
