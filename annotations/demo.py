"""A synthetic demo set, made procedurally, so the project can show a study with no third-party images.

Four looks stand in for painting styles (dotted "impressionist" landscapes, "cubist" facets,
"geometric abstraction" grids, "baroque" dark portraits); deformed variants (warped, with block
artifacts) stand in for AI images with visible defects. Every row says it is synthetic.
"""
import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 384, 288
LOOKS = {
    # look: (style label, period label, scene label, content tags)
    "dots": ("impressionism", "XIX century", "landscape", "landscape;trees;water"),
    "facets": ("cubism", "XX century", "abstract", "abstract"),
    "grid": ("abstractionism", "XX century", "abstract", "abstract"),
    "chiaroscuro": ("baroque", "XVII century", "portrait", "persons;portrait"),
}


def _dots(rng: np.random.Generator) -> Image.Image:
    sky, ground = rng.integers(120, 230, 3), rng.integers(40, 160, 3)
    horizon = int(HEIGHT * rng.uniform(0.4, 0.6))
    image = Image.new("RGB", (WIDTH, HEIGHT), tuple(int(c) for c in sky))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, horizon, WIDTH, HEIGHT], fill=tuple(int(c) for c in ground))
    for _ in range(1800):
        x, y = rng.integers(0, WIDTH), rng.integers(0, HEIGHT)
        base = sky if y < horizon else ground
        colour = np.clip(base + rng.normal(0, 35, 3), 0, 255).astype(int)
        r = int(rng.integers(2, 6))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(c) for c in colour))
    return image.filter(ImageFilter.GaussianBlur(0.8))


def _facets(rng: np.random.Generator) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), (150, 130, 100))
    draw = ImageDraw.Draw(image)
    palette = [(110, 90, 70), (170, 150, 120), (90, 95, 100), (200, 180, 140), (60, 55, 50)]
    for _ in range(60):
        points = [(int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))) for _ in range(3)]
        draw.polygon(points, fill=palette[int(rng.integers(len(palette)))], outline=(40, 35, 30))
    return image


def _grid(rng: np.random.Generator) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), (245, 242, 230))
    draw = ImageDraw.Draw(image)
    xs = sorted(int(x) for x in rng.integers(30, WIDTH - 30, 3))
    ys = sorted(int(y) for y in rng.integers(30, HEIGHT - 30, 3))
    colours = [(200, 30, 30), (30, 60, 170), (240, 200, 30)]
    for colour in colours:
        x, y = int(rng.integers(0, len(xs))), int(rng.integers(0, len(ys)))
        draw.rectangle([xs[x - 1] if x else 0, ys[y - 1] if y else 0, xs[x], ys[y]], fill=colour)
    for x in xs:
        draw.rectangle([x - 4, 0, x + 4, HEIGHT], fill=(15, 15, 15))
    for y in ys:
        draw.rectangle([0, y - 4, WIDTH, y + 4], fill=(15, 15, 15))
    return image


def _chiaroscuro(rng: np.random.Generator) -> Image.Image:
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    cx, cy = WIDTH * rng.uniform(0.4, 0.6), HEIGHT * 0.45
    light = np.exp(-(((xx - cx) / 70) ** 2 + ((yy - cy) / 90) ** 2))
    skin = np.array([225, 180, 140]) * rng.uniform(0.85, 1.0)
    pixels = 20 + light[..., None] * skin + rng.normal(0, 4, (HEIGHT, WIDTH, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.rectangle([cx - 90, HEIGHT * 0.75, cx + 90, HEIGHT], fill=(60, 25, 20))
    return image.filter(ImageFilter.GaussianBlur(1.2))


PAINTERS = {"dots": _dots, "facets": _facets, "grid": _grid, "chiaroscuro": _chiaroscuro}


def deform(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A visible defect: a wavy warp and a few shifted blocks, like generative artifacts."""
    pixels = np.asarray(image)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    shift = (18 * np.sin(yy / rng.uniform(9, 16)) * np.exp(-((xx - WIDTH / 2) / 90) ** 2)).astype(int)
    warped = pixels[yy, np.clip(xx + shift, 0, WIDTH - 1)]
    for _ in range(6):
        x, y = int(rng.integers(0, WIDTH - 48)), int(rng.integers(0, HEIGHT - 48))
        warped[y:y + 48, x:x + 48] = np.roll(warped[y:y + 48, x:x + 48], int(rng.integers(8, 24)), axis=1)
    return Image.fromarray(warped)


def demo_set_write(folder: Path, *, per_look: int = 4, deformed_per_look: int = 2, seed: int = 0) -> Path:
    """Write the demo images and a manifest (the design's format, with expert labels); returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for look, (style, period, scene, content) in LOOKS.items():
        for index in range(per_look + deformed_per_look):
            deformed = index >= per_look
            image = PAINTERS[look](rng)
            if deformed:
                image = deform(image, rng)
            name = f"synthetic_{look}_{index + 1:02d}{'_deformed' if deformed else ''}.png"
            image.save(folder / name)
            rows.append({
                "file": name,
                "title": f"Synthetic {look} study {index + 1}" + (" (deformed)" if deformed else ""),
                "style": style,
                "period": period,
                "genre": scene,
                "origin": "ai" if deformed else "human",
                "generator": "ArtAlign procedural demo" + (" + warp" if deformed else ""),
                "source": "ArtAlign synthetic demo set (procedural, not a real painting)",
                "license": "CC0 (generated by this project)",
                "synthetic": "yes",
                "stands_in_for": "an AI image with artifacts" if deformed else "a human-made painting",
                "expert_style": style,
                "expert_period": period,
                "expert_scene": scene,
                "expert_content": content,
                "expert_deformation": "yes" if deformed else "no",
            })
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def demo_judgements_write(path: Path, manifest: Path, dimensions: list, *, participants: int = 8,
                          seed: int = 0) -> Path:
    """Simulated participants (ids 'simulated-NN') who mostly agree with the manifest's expert labels.

    Each answers each single/binary dimension with the expert label at probability 0.8, else a
    random label; ratings are noisy around 4 (5 for undeformed images). Clearly not real people:
    it exists so the demo's agreement figures have something to show.
    """
    rng = np.random.default_rng(seed)
    with manifest.open(encoding="utf-8") as handle:
        artworks = list(csv.DictReader(handle))
    lines = []
    for p in range(1, participants + 1):
        for row in artworks:
            for dim in dimensions:
                truth = row.get(f"expert_{dim.key}", "")
                if dim.kind == "rating":
                    centre = 5 if row["origin"] == "human" else 3
                    value = int(np.clip(round(rng.normal(centre, 1)), dim.scale_min, dim.scale_max))
                elif dim.kind == "multi":
                    value = truth if rng.random() < 0.8 else dim.labels[int(rng.integers(len(dim.labels)))]
                elif dim.kind == "binary" and dim.key == "origin":
                    value = row["origin"] if rng.random() < 0.75 else [x for x in dim.labels if x != row["origin"]][0]
                elif truth:
                    value = truth if rng.random() < 0.8 else dim.labels[int(rng.integers(len(dim.labels)))]
                else:
                    continue
                lines.append({"participant": f"simulated-{p:02d}", "artwork": row["file"],
                              "dimension": dim.key, "value": value,
                              "response_ms": int(rng.integers(1500, 9000))})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["participant", "artwork", "dimension", "value", "response_ms"])
        writer.writeheader()
        writer.writerows(lines)
    return path
