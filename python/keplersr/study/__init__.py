"""The Feynman comparison study (`keplersr bench feynman`): KeplerSR and its peers side by side on identical data."""
