extension TimelineHTML {
    /// The page's CSS: layout, lane backgrounds and one fill class per span category.
    static var styleSheet: String {
        var css = """
            body { font-family: sans-serif; margin: 12px; color: #222; background: #fff; }
            h1 { font-size: 18px; margin: 0 0 4px 0; }
            p.note { margin: 0 0 2px 0; font-size: 12px; color: #555; }
            #legend { margin: 8px 0 4px 0; font-size: 12px; }
            #legend .key { display: inline-block; margin-right: 14px; white-space: nowrap; }
            #legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; }
            #tools { font-size: 12px; color: #666; margin-bottom: 4px; }
            #tools button { font-size: 12px; margin-right: 4px; }
            #timeline { user-select: none; cursor: grab; display: block; }
            #timeline text { fill: #333; }
            #timeline text.group { font-weight: bold; }
            .sep { stroke: #bbb; stroke-width: 1; }
            .tick { stroke: #888; stroke-width: 1; }
            #mb { pointer-events: none; } #mb text { font-size: 10px; fill: #111; }
            .bg0 { fill: #fafafa; } .bg1 { fill: #f0f0f0; }
            g.lane rect:not([fill-opacity]) { stroke: #222; stroke-opacity: 0.55; stroke-width: 1px;
              vector-effect: non-scaling-stroke; }
            #tip { position: fixed; display: none; pointer-events: none; background: #222; color: #fff;
              font-size: 12px; padding: 4px 7px; border-radius: 3px; max-width: 520px; }

            """
        // Link chunks come by the thousand back to back: no outline, or their lane turns black.
        css += "g.lane rect.\(SpanCategory.transfer.cssClass) { stroke: none; }\n"
        for category in SpanCategory.allCases {
            css +=
                ".\(category.cssClass), i.\(category.cssClass) { fill: \(category.colour); background: \(category.colour); }\n"
        }
        return css
    }

    /// Zoom (wheel, buttons), pan (drag), reset (double-click), hover tooltips, axis redraw, fit to the window.
    static let script = """
        (function () {
          var svg = document.getElementById('timeline'), plot = document.getElementById('plot');
          var axis = document.getElementById('axis'), tip = document.getElementById('tip');
          var ns = 'http://www.w3.org/2000/svg';
          var unit = +svg.dataset.unitNs, start = +svg.dataset.start, end = +svg.dataset.end;
          var total = Math.max(1, end - start) / unit;
          var labelWidth = +svg.dataset.labelWidth, axisHeight = +svg.dataset.axisHeight;
          var lanesHeight = +plot.getAttribute('height'), width = +plot.getAttribute('width');
          var v0 = 0, v1 = total;
          function format(t) {
            if (t === 0) return '0';
            var m = Math.abs(t), s = 1, u = 'ns';
            if (m >= 1e9) { s = 1e9; u = 's'; } else if (m >= 1e6) { s = 1e6; u = 'ms'; } else if (m >= 1e3) { s = 1e3; u = '\\u00b5s'; }
            return (+(t / s).toFixed(3)).toString() + ' ' + u;
          }
          function niceStep(min) {
            for (var m = 1; ; m *= 10) { if (m >= min) return m; if (2 * m >= min) return 2 * m; if (5 * m >= min) return 5 * m; }
          }
          function drawAxis() {
            while (axis.firstChild) axis.removeChild(axis.firstChild);
            var step = niceStep((v1 - v0) * unit / 10), a = v0 * unit, b = v1 * unit;
            for (var t = Math.ceil(a / step) * step; t <= b; t += step) {
              var x = (t - a) / (b - a) * width;
              var line = document.createElementNS(ns, 'line');
              line.setAttribute('x1', x); line.setAttribute('x2', x);
              line.setAttribute('y1', axisHeight - 6); line.setAttribute('y2', axisHeight);
              line.setAttribute('class', 'tick'); axis.appendChild(line);
              var text = document.createElementNS(ns, 'text');
              text.setAttribute('x', x); text.setAttribute('y', axisHeight - 9);
              text.setAttribute('text-anchor', 'middle'); text.textContent = format(t + start); axis.appendChild(text);
            }
          }
          var mbGroup = document.getElementById('mb'), laneHeight = +svg.dataset.laneHeight;
          var mbRects = plot.querySelectorAll('rect[data-mb]');
          function drawMicroBatches() {
            while (mbGroup.firstChild) mbGroup.removeChild(mbGroup.firstChild);
            if (mbRects.length > 20000) return;
            for (var i = 0; i < mbRects.length; i++) {
              var r = mbRects[i], x = (+r.getAttribute('x') - v0) / (v1 - v0) * width;
              var w = +r.getAttribute('width') / (v1 - v0) * width;
              if (w < 14 || x + w < 0 || x > width) continue;
              var text = document.createElementNS(ns, 'text');
              text.setAttribute('x', Math.max(0, x) + Math.min(w, width - Math.max(0, x)) / 2);
              text.setAttribute('y', +r.parentNode.dataset.lane * laneHeight + laneHeight - 4);
              text.setAttribute('text-anchor', 'middle'); text.setAttribute('class', 'mbl');
              text.textContent = r.dataset.mb; mbGroup.appendChild(text);
            }
          }
          function apply() {
            var span = Math.max(1e-3 / unit, v1 - v0);
            plot.setAttribute('viewBox', v0 + ' 0 ' + span + ' ' + lanesHeight);
            drawAxis();
            drawMicroBatches();
          }
          function clamp() {
            var span = Math.min(total, Math.max(1 / unit, v1 - v0));
            if (v0 < 0) v0 = 0;
            if (v0 + span > total) v0 = total - span;
            v1 = v0 + span;
          }
          function zoom(factor, atX) {
            var t = v0 + atX / width * (v1 - v0);
            v0 = t - (t - v0) * factor; v1 = t + (v1 - t) * factor; clamp(); apply();
          }
          function fit() {
            width = Math.max(600, window.innerWidth - labelWidth - 40);
            plot.setAttribute('width', width);
            svg.setAttribute('width', labelWidth + width + 10);
            var lines = svg.querySelectorAll('line.sep');
            for (var i = 0; i < lines.length; i++) lines[i].setAttribute('x2', labelWidth + width);
            apply();
          }
          svg.addEventListener('wheel', function (e) {
            e.preventDefault();
            var x = e.clientX - plot.getBoundingClientRect().left;
            zoom(e.deltaY < 0 ? 0.8 : 1.25, Math.max(0, Math.min(width, x)));
          }, { passive: false });
          var drag = null;
          svg.addEventListener('mousedown', function (e) { drag = { x: e.clientX, v0: v0, v1: v1 }; });
          window.addEventListener('mouseup', function () { drag = null; });
          window.addEventListener('mousemove', function (e) {
            if (drag) {
              var dt = (e.clientX - drag.x) / width * (drag.v1 - drag.v0);
              v0 = drag.v0 - dt; v1 = drag.v1 - dt; clamp(); apply();
            }
            var r = e.target;
            if (r.tagName === 'rect' && r.parentNode.classList.contains('lane')) {
              var text = r.getAttribute('data-tip');
              if (text === null) {
                var title = r.querySelector('title');
                text = title ? title.textContent : '';
                if (title) r.removeChild(title);
                r.setAttribute('data-tip', text);
              }
              tip.textContent = r.parentNode.dataset.name + ': ' + text;
              tip.style.display = 'block';
              tip.style.left = Math.min(window.innerWidth - 540, e.clientX + 12) + 'px';
              tip.style.top = (e.clientY + 14) + 'px';
            } else {
              tip.style.display = 'none';
            }
          });
          svg.addEventListener('dblclick', function () { v0 = 0; v1 = total; apply(); });
          document.getElementById('zin').onclick = function () { zoom(0.5, width / 2); };
          document.getElementById('zout').onclick = function () { zoom(2, width / 2); };
          document.getElementById('reset').onclick = function () { v0 = 0; v1 = total; apply(); };
          window.addEventListener('resize', fit);
          fit();
        })();

        """
}
