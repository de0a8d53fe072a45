"""Lexicon of Taiwanese personal names: surnames and the words that look like names but are
not, shared by the context rules (redact.py) and the passing-name recogniser (person_names.py).
"""

from __future__ import annotations

# Common Taiwanese surnames. "Weak" ones are also everyday characters that end many words
# (工程, 擔任, 對方, 兒童, 有錢…): before a title they count as a surname only after a
# context that introduces a person (start of clause, 請/跟/的/是/位…), see redact.py.
STRONG_SURNAMES = frozenset(
    "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江蕭羅潘簡朱鍾游彭詹胡沈盧梁趙"
    "顏柯翁魏孫戴范宋鄧杜傅侯曹薛丁卓阮馬董温唐藍蔣姚馮歐湯康姜汪鄒巫鐘黎涂龔嚴韓袁陸"
    "柳凃邵倪溫譚駱熊秦顧俞雷粘饒"
)
WEAK_SURNAMES = frozenset("何高施石紀連程田白尤金童夏錢伍于余任甘毛章史官萬方古")
SURNAMES = STRONG_SURNAMES | WEAK_SURNAMES
COMPOUND_SURNAMES = ("張簡", "歐陽", "司馬", "諸葛", "范姜", "張廖", "周黃", "簡黃", "上官", "司徒")

# Common words that begin with a surname character: "高雄", "許多", "林業" are not names.
# Checked on the surname and the next character of a full-name candidate.
NOT_NAMES = frozenset(
    "王道 高雄 林業 林務 林地 黃金 黃色 黃昏 方面 方式 方法 方案 方向 方便 "
    "方才 方能 方可 馬上 馬路 石化 石油 石頭 石材 金融 金額 金錢 金門 金流 "
    "江湖 江河 白天 白色 白話 白領 周邊 周末 周遭 周圍 周年 周期 周全 周到 "
    "程度 程序 程式 陳述 陳情 陳列 李子 高度 高中 高級 高層 高速 高鐵 高齡 "
    "高等 高職 高興 高手 高山 高低 高峰 高價 高溫 高壓 高額 高達 高於 高科 "
    "連結 連續 連接 連帶 連線 連鎖 連署 溫度 溫暖 溫室 温度 温室 施工 施行 "
    "施政 施作 曾經 許多 許可 許願 何時 何必 何況 何謂 何在 何種 何處 何以 "
    "田地 田間 田野 古代 古蹟 古老 史料 史上 官方 官員 官司 官網 童年 童工 "
    "夏天 夏季 萬一 萬元 萬物 雷同 雷射 毛利 毛病 章程 章節 甘蔗 甘願 甘心 "
    "任務 任何 任期 任職 于是 游泳 游擊 游客 康復 紀錄 紀念 紀律 洪水 簡單 "
    "簡報 簡化 簡直 簡稱 簡易 簡介 葉子 莊園 羅列 胡亂 胡椒 沈重 沈默 杜絕 "
    "卓越 馬桶 馬達 馬力 董事 藍圖 藍天 藍色 黎明 嚴重 嚴格 嚴謹 嚴厲 韓國 "
    "陸地 陸續 陸軍 柳丁 錢包 顧問 顧客 顧慮 顧及 孫子 宋朝 張力 張貼 鄭重 "
    "謝謝 謝意 賴以 蕭條 鍾情 顏色 戴上 歐洲 歐美 歐盟 尤其 鐘頭 鐘點 汪洋 "
    "余額 石門 江南 曾任 朱紅 白皮 毛巾 伍佰 錢財 秦朝 熊貓 饒富 傅立 侯選 "
    "丁點 唐突 湯匙".split()
)
# Characters that do not occur in given names here: "這位先生", "我們的先生", "陳老先生".
NOT_GIVEN = frozenset(
    "的位個和跟與及是有在說這那們百千兩大小老我你他她它也都就還請謝對向"
    "給讓被把從以為到上下來去會要能可各每某該此其另全多少等些了着著過嗎呢吧啊呀喔哦〇今"
)


# Characters that end an organisation's or a body's name, never a person's given name
# (林保署, 地球公民會); not 中/心/公, which given names hold (潘金心).
ORG_END = frozenset("會部局署處司科組室所院校館社團隊店廠場盟站府")
