(function () {
  function each(selector, f) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), f);
  }
  function covers(mark, index) {
    return (' ' + mark.dataset.spans + ' ').indexOf(' ' + index + ' ') >= 0;
  }
  function light(index, on) {
    each('#source mark.seg', function (m) { if (covers(m, index)) m.classList.toggle('lit', on); });
    each('#fields li[data-index="' + index + '"]', function (li) { li.classList.toggle('lit', on); });
  }
  each('#fields li.field', function (li) {
    var index = li.dataset.index;
    li.addEventListener('mouseenter', function () { light(index, true); });
    li.addEventListener('mouseleave', function () { light(index, false); });
    li.addEventListener('click', function () {
      var first = Array.prototype.find.call(document.querySelectorAll('#source mark.seg'),
        function (m) { return covers(m, index); });
      if (first) first.scrollIntoView({ block: 'center', behavior: 'smooth' });
    });
  });
  each('#source mark.seg', function (m) {
    var spans = m.dataset.spans.split(' ');
    m.addEventListener('mouseenter', function () { spans.forEach(function (i) { light(i, true); }); });
    m.addEventListener('mouseleave', function () { spans.forEach(function (i) { light(i, false); }); });
  });
})();
