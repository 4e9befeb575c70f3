"""Content x style grids for docs/images (AdaIN and Gatys style transfer), from the PNGs `nativegan stylize` wrote.

    /usr/bin/python3 docs/experiments/style_grid.py OUT.jpg SIZE --contents A.jpg,B.jpg --styles S.jpg,T.jpg --cells DIR/PATTERN
    /usr/bin/python3 docs/experiments/style_grid.py OUT.jpg SIZE --row A.jpg --cells X.png,Y.png,...   (one row: a sweep)

PATTERN holds {c} and {s} (the content's and style's file stems). Header pictures are center-cropped squares resized to
SIZE, as `stylize --size` crops its inputs. Needs Pillow (Debian's python3-pil).
"""
import argparse
import os

from PIL import Image


def square(path, size):
    im = Image.open(path).convert("RGB")
    side = min(im.size)
    left, top = (im.size[0] - side) // 2, (im.size[1] - side) // 2
    return im.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("size", type=int)
    p.add_argument("--contents")
    p.add_argument("--styles")
    p.add_argument("--row")
    p.add_argument("--cells", required=True)
    p.add_argument("--pad", type=int, default=4)
    a = p.parse_args()
    s, pad = a.size, a.pad
    if a.row:
        cells = [square(a.row, s)] + [square(c, s) for c in a.cells.split(",")]
        grid = [cells]
    else:
        contents, styles = a.contents.split(","), a.styles.split(",")
        blank = Image.new("RGB", (s, s), (255, 255, 255))
        grid = [[blank] + [square(x, s) for x in styles]]
        for c in contents:
            grid.append([square(c, s)] + [square(a.cells.format(c=stem(c), s=stem(x)), s) for x in styles])
    rows, cols = len(grid), len(grid[0])
    out = Image.new("RGB", (cols * (s + pad) + pad, rows * (s + pad) + pad), (128, 128, 128))
    for r, row in enumerate(grid):
        for k, im in enumerate(row):
            out.paste(im, (pad + k * (s + pad), pad + r * (s + pad)))
    out.save(a.out, quality=90)


if __name__ == "__main__":
    main()
