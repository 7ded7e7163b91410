"""The business case for over-the-air upgrades of Alt HAN bridges: what the capability costs (the one-off DCC
and CSP changes, each supplier's own systems, adapting the devices, then each campaign) against the site
visits and replacements it avoids over the devices' life, and the break-even rate of defects needing a fix.

The model, per year of device life: a share ``defect_rate`` of premises has a defect that needs a fix; over
the air, a share ``ota_success`` of those is fixed without anyone going there; each fixed premises saves a
site visit, or (a share ``replacement_share`` of them) a replacement: a visit plus a new device. Each fix is
one campaign a year (``campaigns_per_year``). Net benefit over ``device_life_years``:

    life * (premises * defect_rate * ota_success * saving_per_fix - campaigns_per_year * campaign_cost) - one_off

with ``saving_per_fix = visit_cost + replacement_share * device_cost`` and ``one_off = dcc_change +
csp_change + suppliers * supplier_change + device_adaptation``; the break-even defect rate makes it zero.

Every figure is a default with its source stated, and every one can be overridden. The DCC's quoted cost in
the MP170 responses was not found in the material searched (the SEC modification pages for MP170, its
consultation responses and the DCC's impact assessment were not among it), so no cost default has a published
source: each says so, and names the published figures it was checked against where there are any.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..errors import ParameterError

ASSUMPTION = "assumption (no public source found; override it)"
# the published material the defaults were checked against (none gives the MP170 figures themselves)
SECMP0007 = ("SECMP0007 'Firmware updates to IHDs and PPMIDs' (smartenergycodecompany.co.uk/modifications/"
             "firmware-updates-to-ihds-and-ppmids/): the DCC change that gave PPMIDs over-the-air firmware; its "
             "page cites the solution's 'high costs' in the DCC Preliminary Assessment but no figure")
SECMP0007_CSP = ("SECMP0007 implementation approach (smartenergycodecompany.co.uk/latest-news/secmp0007-firmware-"
                 "updates-to-ihds-and-ppmids-implementation-approach/, 30 March 2021): the CSP changes went in a "
                 "later SEC release (June 2022) than the DSP's; no cost is published")
ALT_HAN_CHARGES = ("SEC FAQ Q23 (smartenergycodecompany.co.uk/ufaqs/q23-are-the-costs-of-alt-han-socialised-to-all-"
                   "sec-parties/): Alt HAN costs are recovered from suppliers through DCC charges, socialised "
                   "(fixed) or per supplier (explicit); no figure for a supplier's own systems")
INSTALL_COST = ("for comparison, an installation visit: £67 per single-meter installation in the Big Deal / ITV "
                "analysis of BEIS's Smart Meter Roll-out Cost-Benefit Analysis (November 2016; blog.thebigdeal.com/"
                "total-cost-smart-meter-rollout-massive-12-billion/), and installs in 2017 costing about 50% more "
                "than BEIS assumed (National Audit Office, Rolling out smart meters, 2018, as reported by "
                "computerweekly.com/news/252453010)")
DEVICE_LIFE = ("DNV, 'Determining smart meter lifetimes' (dnv.com/article/determining-smart-meter-lifetimes-to-"
               "support-investment-decisions-for-new-metering-infrastructures-180854/): smart metering "
               "cost-benefit analyses assume a lifetime of at least 15 years")


@dataclass(frozen=True)
class Figure:
    value: float
    unit: str
    source: str


# the figures of the model and where each default comes from
DEFAULTS = {
    "dcc_change": Figure(500_000.0, "GBP one-off", ASSUMPTION + ": the DCC's quoted cost in the MP170 responses "
                         "was not found in the material searched; compare " + SECMP0007),
    "csp_change": Figure(250_000.0, "GBP one-off", ASSUMPTION + "; compare " + SECMP0007_CSP),
    "supplier_change": Figure(50_000.0, "GBP one-off per supplier", ASSUMPTION + "; compare " + ALT_HAN_CHARGES),
    "device_adaptation": Figure(100_000.0, "GBP one-off", ASSUMPTION + " (manufacturers adapting bridge firmware; "
                                "no published figure found)"),
    "campaign_cost": Figure(10_000.0, "GBP per campaign", ASSUMPTION + " (no published figure found)"),
    "campaigns_per_year": Figure(1.0, "campaigns per year", ASSUMPTION + ": one fix a year"),
    "visit_cost": Figure(150.0, "GBP per site visit", "the project's default site-visit cost (CampaignPlan."
                         "site_visit_cost, report campaign --visit-cost); an assumption, contracts differ; "
                         + INSTALL_COST),
    "device_cost": Figure(60.0, "GBP per replaced bridge", ASSUMPTION + " (no published bridge price found)"),
    "replacement_share": Figure(0.2, "share of fixes needing a new device", ASSUMPTION + " (no published figure "
                                "found)"),
    "ota_success": Figure(0.95, "share of fixes delivered over the air", ASSUMPTION + "; report programme's "
                          "verified / targeted measures it for past campaigns"),
    "defect_rate": Figure(0.05, "share of premises per year needing a fix", ASSUMPTION + " (no published figure "
                          "found)"),
    "device_life_years": Figure(15.0, "years", "a typical smart metering device design life: " + DEVICE_LIFE),
}
SHARES = ("replacement_share", "ota_success", "defect_rate")


@dataclass
class BusinessCase:
    inputs: dict                  # name -> (value, unit, source), with the fleet's premises and suppliers
    costs: pa.Table               # item, amount
    curve: pa.Table               # defect_rate, net_benefit (over device life)
    summary: dict
    tables: dict = field(init=False)

    def __post_init__(self):
        self.tables = {"costs": self.costs, "net-benefit": self.curve, "assumptions": pa.table({
            "figure": list(self.inputs), "value": [float(v[0]) for v in self.inputs.values()],
            "unit": [v[1] for v in self.inputs.values()], "source": [v[2] for v in self.inputs.values()]})}


def business_case(premises: int, suppliers: int, *, premises_source: str = "given",
                  **overrides: float | None) -> BusinessCase:
    """The case for ``premises`` premises with Alt HAN bridges served by ``suppliers`` suppliers; ``overrides``
    replace DEFAULTS figures (None keeps the default)."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ParameterError(f"business case: unknown figure(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    if premises < 1 or suppliers < 1:
        raise ParameterError(f"business case: needs at least one premises and one supplier (got {premises}, "
                             f"{suppliers})")
    inputs = {"premises": (float(premises), "premises with Alt HAN bridges", premises_source),
              "suppliers": (float(suppliers), "energy suppliers", premises_source)}
    for name, default in DEFAULTS.items():
        given = overrides.get(name)
        value = default.value if given is None else float(given)
        if value < 0 or (name in SHARES and value > 1) or (name == "device_life_years" and value <= 0):
            raise ParameterError(f"business case: {name} = {value} is out of range")
        inputs[name] = (value, default.unit, default.source if given is None else "given")
    v = {name: value for name, (value, _, _) in inputs.items()}
    one_off = {"DCC change": v["dcc_change"], "CSP change": v["csp_change"],
               "supplier systems": v["suppliers"] * v["supplier_change"], "device adaptation": v["device_adaptation"]}
    life = v["device_life_years"]
    campaigns = life * v["campaigns_per_year"] * v["campaign_cost"]
    saving_per_fix = v["visit_cost"] + v["replacement_share"] * v["device_cost"]
    fixed_per_rate = life * v["premises"] * v["ota_success"]          # fixed premises per unit of defect rate
    rates = np.linspace(0.0, max(0.2, 2 * v["defect_rate"]), 101)
    net = fixed_per_rate * rates * saving_per_fix - campaigns - sum(one_off.values())
    slope = fixed_per_rate * saving_per_fix
    break_even = (sum(one_off.values()) + campaigns) / slope if slope > 0 else None
    visits_avoided = fixed_per_rate * v["defect_rate"]
    summary = {"premises": premises, "suppliers": suppliers, "device_life_years": life,
               "one_off_cost": round(sum(one_off.values()), 2), "campaign_costs_over_life": round(campaigns, 2),
               "visits_avoided_over_life": round(visits_avoided, 1),
               "replacements_avoided_over_life": round(visits_avoided * v["replacement_share"], 1),
               "savings_over_life": round(visits_avoided * saving_per_fix, 2),
               "net_benefit_over_life": round(visits_avoided * saving_per_fix - campaigns - sum(one_off.values()), 2),
               "break_even_defect_rate": None if break_even is None else round(break_even, 6)}
    costs = pa.table({"item": [*one_off, "campaigns over device life"],
                      "amount": [*one_off.values(), campaigns]})
    curve = pa.table({"defect_rate": rates, "net_benefit": net})
    return BusinessCase(inputs=inputs, costs=costs, curve=curve, summary=summary)


def render_page(case: BusinessCase) -> str:
    """One self-contained HTML page: the summary, the net benefit against the defect rate with the break-even
    marked, the costs, and every figure with its source."""
    from . import plots
    from .html import _CSS, _cards, _table

    s = case.summary
    fig, ax = plots._figure()
    rates = case.curve["defect_rate"].to_numpy()
    ax.plot(rates * 100, case.curve["net_benefit"].to_numpy() / 1e6, color=plots._PALETTE[0])
    ax.axhline(0, color="#8c8c8c", linewidth=0.8)
    if s["break_even_defect_rate"] is not None and s["break_even_defect_rate"] <= rates[-1]:
        ax.axvline(s["break_even_defect_rate"] * 100, color=plots._PALETTE[3], linestyle="--",
                   label=f"break-even {s['break_even_defect_rate'] * 100:.2f}%")
        ax.legend(frameon=False)
    plots._style(ax, "Net benefit over device life", "premises needing a fix per year (%)", "GBP million")
    curve_svg = plots._svg(fig)
    costs = case.costs
    bars = plots.horizontal_bars(costs["item"].to_pylist(), [round(a) for a in costs["amount"].to_pylist()],
                                 "What over-the-air upgrades cost", "GBP")
    break_even = "none (no saving per fix)" if s["break_even_defect_rate"] is None else \
        f"{s['break_even_defect_rate'] * 100:.3f}% of premises a year"
    parts = ["<h1>Business case: over-the-air upgrades of Alt HAN bridges</h1>",
             _cards([("premises", s["premises"]), ("suppliers", s["suppliers"]),
                     ("one-off cost", f"£{s['one_off_cost']:,.0f}"),
                     ("visits avoided over life", round(s["visits_avoided_over_life"])),
                     ("net benefit over life", f"£{s['net_benefit_over_life']:,.0f}"),
                     ("break-even defect rate", break_even)]),
             f"<figure>{curve_svg}</figure><figure>{bars}</figure>",
             "<h2>Figures and their sources</h2>", _table(case.tables["assumptions"], limit=100),
             "<p class='note'>Every figure can be overridden: see <code>althan-ota report business-case --help"
             "</code>.</p>"]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Business case</title>"
            f"<style>{_CSS}</style></head><body><main>{''.join(parts)}</main></body></html>")

