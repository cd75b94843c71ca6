"""The quiz page: one self-contained HTML file that plays the items blind and saves the answers.

The page holds the audio (base64 in a JSON block), the genre names of the answer buttons and,
for each A/B pair, the genre it asks about; it holds no file name, condition, verdict or answer,
and its items come in an order drawn at build time. In the browser, each listener gets their own
order (seeded by their listener id), answers are kept in local storage after every click (a
reload resumes where it stopped), and the last screen saves ``answers-<listener>.json``. A
Content-Security-Policy lets nothing run but the page's own script and nothing load but data: URIs.

The answers carry a checksum (FNV-1a, 32 bits, over :func:`canonical`) that the scorer recomputes:
not a signature, but a file edited by hand no longer matches it.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json

#: How the page embeds audio: name -> (soundfile format, subtype, MIME type). FLAC plays in every
#: current browser, phones included; Ogg Vorbis is a third of the size but Safari plays it only lately.
AUDIO_FORMATS = {"flac": ("FLAC", "PCM_16", "audio/flac"), "vorbis": ("OGG", "VORBIS", "audio/ogg")}
#: Listener ids the page accepts (they name the answers file).
LISTENER_PATTERN = r"^[A-Za-z0-9._-]{1,40}$"

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:44rem;padding:1rem;color:#222;
background:#fafafa;line-height:1.4}h1{font-size:1.5rem;margin:.3rem 0}section{background:#fff;border:1px solid #e3e3e3;
border-radius:10px;padding:1rem;margin:.8rem 0}button{font:inherit;font-size:1.05rem;padding:.7rem 1rem;margin:.25rem;
border-radius:8px;border:1px solid #bbb;background:#f4f4f4;cursor:pointer;min-width:6.5rem}button:active{background:#ddd}
button.play{background:#2d5fa8;color:#fff;border-color:#2d5fa8}#choices{display:flex;flex-wrap:wrap;margin-top:.6rem}
#choices button{flex:1 1 8rem}progress{width:100%;height:1rem}input{font:inherit;font-size:1.05rem;padding:.5rem;
width:14rem;max-width:100%}.muted{color:#666;font-size:.9rem}#prompt{font-size:1.15rem;font-weight:600}
"""

SCRIPT = r"""
(function(){'use strict';
var Q=JSON.parse(document.getElementById('quiz-data').textContent);
function $(id){return document.getElementById(id)}
var ID=new RegExp(Q.listener_pattern),store=null,memory={};
try{store=window.localStorage;store.setItem('auralize-probe','1');store.removeItem('auralize-probe')}catch(e){store=null;
$('storage').textContent='This browser does not keep answers across a reload: finish in one go.'}
function load(k){try{var v=store?store.getItem(k):memory[k];return v?JSON.parse(v):null}catch(e){return null}}
function save(k,v){var t=JSON.stringify(v);if(store){try{store.setItem(k,t);return}catch(e){}}memory[k]=t}
function fnv(s){var h=0x811c9dc5;for(var i=0;i<s.length;i++){h^=s.charCodeAt(i);h=Math.imul(h,0x01000193)>>>0}return h>>>0}
function rng(seed){var a=seed>>>0;return function(){a=(a+0x6D2B79F5)>>>0;var t=a;t=Math.imul(t^(t>>>15),t|1);
t^=t+Math.imul(t^(t>>>7),t|61);return((t^(t>>>14))>>>0)/4294967296}}
function shuffle(list,r){for(var i=list.length-1;i>0;i--){var j=Math.floor(r()*(i+1)),t=list[i];list[i]=list[j];list[j]=t}
return list}
function keyOf(l){return 'auralize-quiz/'+Q.quiz+'/'+l}
var LAST='auralize-quiz/'+Q.quiz+'/last',state=null,shown=0,plays=0,audio=$('player');
function order(listener){var r=rng(fnv(Q.quiz+'/'+listener));
var single=shuffle(Q.items.map(function(it){return{item:it.id,media:[it.media]}}),r);
var pairs=shuffle(Q.pairs.map(function(p){var m=[p.a,p.b];if(r()<0.5)m.reverse();return{item:p.id,media:m,genre:p.genre}}),r);
return single.concat(pairs)}
function begin(listener){state=load(keyOf(listener));
if(!state||state.quiz!==Q.quiz){state={quiz:Q.quiz,listener:listener,order:order(listener),answers:[],
started:new Date().toISOString()};save(keyOf(listener),state)}
save(LAST,listener);show()}
function button(label,cls,act){var b=document.createElement('button');b.type='button';b.className=cls;b.textContent=label;
b.addEventListener('click',act);return b}
function play(media,b,label){return function(){plays++;var src='data:'+Q.mime+';base64,'+Q.media[media];
if(audio.getAttribute('src')!==src)audio.setAttribute('src',src);else audio.currentTime=0;
var p=audio.play();if(p&&p.catch)p.catch(function(){});b.textContent='Replay'+label}}
function show(){var i=state.answers.length,n=state.order.length;$('start').hidden=true;$('bar').max=n;$('bar').value=i;
$('count').textContent=i+' of '+n+' answered';if(i>=n){finish();return}
$('question').hidden=false;$('done').hidden=true;var q=state.order[i],players=$('players'),choices=$('choices');
shown=Date.now();plays=0;players.textContent='';choices.textContent='';audio.pause();
if(q.genre===undefined){$('prompt').textContent='Which genre does this sound like?';
var b=button('Play','play',null);b.addEventListener('click',play(q.media[0],b,''));players.appendChild(b);
Q.genres.concat([Q.cant_tell]).forEach(function(g){choices.appendChild(button(g,'answer',function(){answer(g)}))})}
else{$('prompt').textContent='Which of these two sounds more like '+q.genre+'?';
['A','B'].forEach(function(s,k){var b=button('Play '+s,'play',null);b.addEventListener('click',play(q.media[k],b,' '+s));
players.appendChild(b)});
['A','B'].forEach(function(s,k){choices.appendChild(button(s,'answer',function(){answer(q.media[k])}))})}}
function answer(value){var q=state.order[state.answers.length];
state.answers.push({item:q.item,answer:value,ms:Math.max(0,Date.now()-shown),plays:plays});
save(keyOf(state.listener),state);show()}
function canonical(){return JSON.stringify([Q.quiz,state.listener,state.answers.map(function(a){
return[a.item,a.answer,a.ms,a.plays]})])}
function finish(){audio.pause();$('question').hidden=true;$('done').hidden=false;
if(!state.finished){state.finished=new Date().toISOString();save(keyOf(state.listener),state)}}
function download(){var out={kind:'quiz-answers',version:1,quiz:Q.quiz,listener:state.listener,started:state.started,
finished:state.finished,seconds:state.answers.reduce(function(s,a){return s+a.ms},0)/1000,answers:state.answers,
checksum:'fnv1a32:'+('0000000'+fnv(canonical()).toString(16)).slice(-8)};
var a=document.createElement('a');a.href=URL.createObjectURL(new Blob([JSON.stringify(out,null,1)],{type:'application/json'}));
a.download='answers-'+state.listener+'.json';document.body.appendChild(a);a.click();
setTimeout(function(){URL.revokeObjectURL(a.href);a.remove()},2000)}
$('begin').addEventListener('click',function(){var l=$('listener').value.trim();
if(!ID.test(l)){$('start-error').textContent='A listener id is 1 to 40 letters, digits, dots, dashes or underscores.';return}
begin(l)});
$('download').addEventListener('click',download);
$('another').addEventListener('click',function(){save(LAST,'');state=null;$('done').hidden=true;$('listener').value='';
$('start').hidden=false});
var last=load(LAST);if(typeof last==='string'&&ID.test(last)&&load(keyOf(last)))begin(last);else $('start').hidden=false;
})();
"""

#: Nothing may run but SCRIPT, nothing load but data: URIs (the audio) and blob: (the saved answers).
CSP = ("default-src 'none'; media-src data:; style-src 'unsafe-inline'; "
       f"script-src 'sha256-{base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()}'")


def canonical(quiz: str, listener: str, answers: list[dict]) -> str:
    """The text the answers' checksum covers, exactly as the page's ``canonical()`` writes it."""
    rows = [[a["item"], a["answer"], a["ms"], a["plays"]] for a in answers]
    return json.dumps([quiz, listener, rows], separators=(",", ":"), ensure_ascii=False)


def fnv1a32(text: str) -> str:
    """FNV-1a over the UTF-16 code units of ``text`` (as JavaScript's ``charCodeAt`` reads it), as ``fnv1a32:hex``."""
    h = 0x811C9DC5
    units = text.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h = ((h ^ (units[i] | units[i + 1] << 8)) * 0x01000193) & 0xFFFFFFFF
    return f"fnv1a32:{h:08x}"


def render(quiz: str, genres: list[str], cant_tell: str, items: list[dict], pairs: list[dict], media: dict[str, str],
           mime: str, title: str = "Listening test") -> str:
    """The page's HTML: ``items`` ``{id, media}``, ``pairs`` ``{id, genre, a, b}``, ``media`` id -> base64 audio."""
    data = {"quiz": quiz, "genres": genres, "cant_tell": cant_tell, "mime": mime, "listener_pattern": LISTENER_PATTERN,
            "items": items, "pairs": pairs, "media": media}
    # No "<" at all in the <script> block (no "</script>", no "<!--"): JSON reads \u003c as the same character.
    blob = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    n, m = len(items), len(pairs)
    intro = (f"You will hear {n} short sounds, one at a time, and say which genre each sounds like (or that you "
             "can't tell)" + (f"; then {m} pairs, and say which of the two sounds more like the genre named" if m else "")
             + ". Each sound is 5 seconds long; play it as often as you like. There are no right answers to look up: "
             "answer with what you hear.")
    t = html.escape(title)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{t}</title><style>{CSS}</style></head><body><h1>{t}</h1>"
            f'<section id="start" hidden><p>{html.escape(intro)}</p>'
            '<p><label>Your listener id (a name or number the organiser gave you): <br><input id="listener" '
            'autocomplete="off" maxlength="40"></label></p><button id="begin" type="button">Start</button>'
            '<p id="start-error" class="muted"></p><p id="storage" class="muted"></p></section>'
            '<section id="question" hidden><progress id="bar" value="0" max="1"></progress>'
            '<p id="count" class="muted"></p><p id="prompt"></p><div id="players"></div><div id="choices"></div>'
            "</section>"
            '<section id="done" hidden><p>Thank you: every question is answered. Save your answers and send the file '
            'to the organiser.</p><button id="download" type="button">Save answers</button>'
            '<button id="another" type="button">Another listener</button></section>'
            '<audio id="player" preload="none"></audio>'
            f'<script type="application/json" id="quiz-data">{blob}</script>'
            f"<script>{SCRIPT}</script></body></html>\n")
