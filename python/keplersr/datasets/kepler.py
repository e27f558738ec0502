"""Orbital data for rediscovering Kepler's third law, shipped as literal values.

Two small tables of real, published orbital elements (no files, no downloads):

* :func:`load_kepler` - planets, dwarf planets, asteroids and comets orbiting
  the Sun: semi-major axis ``a`` [AU], sidereal period ``T`` [years],
  eccentricity ``e``.  Kepler's third law reads ``T = a**1.5`` in these units
  (to ~0.1 %, the planet/Sun mass ratio being the main deviation).
* :func:`load_jupiter_moons` - the Galilean moons: ``a`` [km], ``T`` [days],
  ``e``; ``T**2 / a**3`` is constant (set by Jupiter's mass).

Sources
-------
Planets, a and e: JPL Solar System Dynamics, "Approximate Positions of the
Planets" (E. M. Standish), Table 1, mean Keplerian elements at J2000 valid
1800-2050 AD (Earth: Earth-Moon barycentre).
Planets and Pluto, sidereal orbit periods: NASA Planetary Fact Sheet
(D. R. Williams, NASA NSSDCA), in days, converted with the Julian year
(365.25 d).
Dwarf planets, asteroids and comets: JPL Small-Body Database osculating
elements, rounded as quoted in standard references (periods in years).
Galilean moons: NASA Jovian Satellite Fact Sheet / JPL Planetary Satellite
Mean Elements (a in km, sidereal period in days).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["JULIAN_YEAR_DAYS", "load_jupiter_moons", "load_kepler"]

#: Days per Julian year, used to convert fact-sheet periods to years.
JULIAN_YEAR_DAYS = 365.25

# name, kind, a [AU] (JPL Standish Table 1), sidereal period [days]
# (NASA Planetary Fact Sheet), e (JPL Standish Table 1)
_PLANETS_DAYS = [
    ("Mercury", "planet", 0.38709927, 87.969, 0.20563593),
    ("Venus", "planet", 0.72333566, 224.701, 0.00677672),
    ("Earth", "planet", 1.00000261, 365.256, 0.01671123),
    ("Mars", "planet", 1.52371034, 686.980, 0.09339410),
    ("Jupiter", "planet", 5.20288700, 4332.589, 0.04838624),
    ("Saturn", "planet", 9.53667594, 10759.22, 0.05386179),
    ("Uranus", "planet", 19.18916464, 30685.4, 0.04725744),
    ("Neptune", "planet", 30.06992276, 60189.0, 0.00859048),
    ("Pluto", "dwarf planet", 39.48211675, 90560.0, 0.24882730),
]

# name, kind, a [AU], sidereal period [years], e (JPL Small-Body Database,
# rounded osculating elements)
_SMALL_BODIES_YEARS = [
    ("Ceres", "dwarf planet", 2.7675, 4.60, 0.0785),
    ("Vesta", "asteroid", 2.3615, 3.63, 0.0887),
    ("Haumea", "dwarf planet", 43.116, 283.12, 0.19642),
    ("Makemake", "dwarf planet", 45.430, 306.21, 0.16126),
    ("Eris", "dwarf planet", 67.864, 559.07, 0.43607),
    ("Halley", "comet", 17.834, 75.32, 0.96714),
    ("Encke", "comet", 2.215, 3.30, 0.8483),
]

# name, a [km], sidereal period [days], e (NASA Jovian Satellite Fact Sheet /
# JPL Planetary Satellite Mean Elements)
_GALILEAN_MOONS = [
    ("Io", 421_800.0, 1.769138, 0.0041),
    ("Europa", 671_100.0, 3.551181, 0.0094),
    ("Ganymede", 1_070_400.0, 7.154553, 0.0013),
    ("Callisto", 1_882_700.0, 16.689018, 0.0074),
]


def load_kepler() -> pd.DataFrame:
    """Orbits of Solar-System bodies around the Sun.

    Returns a new DataFrame, one row per body (Mercury..Neptune, then Pluto,
    Ceres, Vesta, Haumea, Makemake, Eris and the comets Halley and Encke),
    with columns

    ``name``  body name;
    ``kind``  ``"planet"``, ``"dwarf planet"``, ``"asteroid"`` or ``"comet"``;
    ``a``     semi-major axis [AU];
    ``T``     sidereal orbital period [Julian years];
    ``e``     orbital eccentricity.

    Kepler's third law: ``T**2 / a**3 ~= 1`` for every row.

    Example
    -------
    >>> df = load_kepler()
    >>> X, y = df[["a"]], df["T"]          # expect T = a**1.5
    """
    rows = [(n, k, a, p / JULIAN_YEAR_DAYS, e) for n, k, a, p, e in _PLANETS_DAYS]
    rows += list(_SMALL_BODIES_YEARS)
    return pd.DataFrame(rows, columns=["name", "kind", "a", "T", "e"])


def load_jupiter_moons() -> pd.DataFrame:
    """The four Galilean moons of Jupiter.

    Returns a new DataFrame with columns ``name``, ``a`` (semi-major axis
    [km]), ``T`` (sidereal period [days]) and ``e`` (eccentricity).  Kepler's
    third law gives ``T**2 / a**3 = 4 pi**2 / (G M_Jupiter)``, the same for
    all four moons.
    """
    return pd.DataFrame(list(_GALILEAN_MOONS), columns=["name", "a", "T", "e"])
