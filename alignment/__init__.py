"""Alignment: how people agree among themselves, and how models align with them.

A request or a report goes down one way, each step a module whose name says which it is:

1. load    `loader`        database → typed rows (`rows`): the only module here that queries
2. code    `coding`        rows → arrays per dimension (`arrays`; `coding.dimension_arrays`)
3. build   `report_sections`, `report_figures`, `report_strata`, `report_exclusions`
                           arrays → the report's JSON content (no queries; statistics in `stats/`)
4. render  `render_report` (HTML, CSV), `render_svg` (charts)    JSON → text
5. show    `dashboard`, `dashboard_points`                        stored report + arrays → page context

`reports` is the service that runs steps 1–3 and stores a `Report`; `bundle` the exports; `views`
and `api` handle HTTP only. A later step imports earlier ones, never the other way round.
"""
