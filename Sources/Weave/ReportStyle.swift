/// The report's stylesheet: readable prose width, quiet code, figures that scale down.
enum ReportStyle {
    static let css = """
    :root { --fg: #1d1d1f; --muted: #6e6e73; --rule: #d9d9de; --accent: #0b5cad; --bad: #b3261e; --warn: #8a6d00; }
    body { font: 17px/1.6 Charter, "Bitstream Charter", Georgia, serif; color: var(--fg); max-width: 46rem;
           margin: 2rem auto; padding: 0 1rem; }
    h1, h2, h3, h4 { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.25; }
    h1 { font-size: 2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
    a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
    code, pre { font: 13.5px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
    pre { background: #f6f6f8; padding: .7rem .9rem; overflow-x: auto; border-radius: 4px; }
    pre.output { background: #fbfbfc; border-left: 3px solid var(--rule); }
    details.code { margin: .6rem 0; } details.code > summary { cursor: pointer; color: var(--muted);
           font: 13px system-ui, sans-serif; } details.code > summary b { color: var(--fg); }
    .where { color: var(--muted); font: 12px ui-monospace, monospace; }
    figure { margin: 1.8rem 0; } figure .svg svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
    figcaption { font: 14.5px/1.45 system-ui, sans-serif; color: #333; margin: .5rem 0; }
    figcaption > a:first-child { font-weight: 600; color: var(--fg); }
    table { border-collapse: collapse; margin: 1rem auto; font: 14.5px system-ui, sans-serif; font-variant-numeric: tabular-nums; }
    th, td { padding: .3rem .7rem; border-bottom: 1px solid var(--rule); text-align: left; }
    thead th { border-bottom: 2px solid #999; }
    .card { border-radius: 6px; padding: .6rem .9rem; margin: 1.2rem 0; font: 14.5px/1.5 system-ui, sans-serif; }
    .error-card { border: 1px solid var(--bad); background: #fdf2f1; } .error-card strong { color: var(--bad); }
    .error-card pre { background: #fff; white-space: pre-wrap; }
    .failure-banner { border: 1px solid var(--bad); background: #fdf2f1; padding: .6rem 1rem; border-radius: 4px;
           font: 14.5px/1.45 system-ui, sans-serif; } .failure-banner strong { color: var(--bad); }
    .notrun-card { border: 1px dashed var(--warn); background: #fffbea; }
    .missing { color: var(--bad); font: 13px ui-monospace, monospace; background: #fdf2f1; }
    .math-error { color: var(--bad); }
    .math.display { overflow-x: auto; margin: 1rem 0; text-align: center; }
    nav.toc { font: 14.5px/1.5 system-ui, sans-serif; border: 1px solid var(--rule); border-radius: 6px; padding: .3rem 1rem; }
    nav.toc h2 { font-size: 1rem; border: 0; margin: .5rem 0; } nav.toc ul { list-style: none; padding-left: 0; }
    nav.toc .toc1 { font-weight: 600; margin-top: .4rem; } nav.toc .toc2 { padding-left: 1.2rem; }
    nav.toc .toc3 { padding-left: 2.4rem; }
    p.scale { font: 13px system-ui, sans-serif; color: var(--muted); }
    table.provenance th { width: 7rem; } table.stages { font-size: 13px; }
    .kw { color: #a626a4; } .str { color: #50a14f; } .com { color: #8e8e93; font-style: italic; } .num { color: #986801; }
    .typ { color: #0b5cad; } .attr { color: #c18401; } .fn { color: #4078f2; }
    """
}
