"""The government-matter taxonomy (first and second level) the catalogue's categories must come from.

Embedded from the TipDM 2020 challenge category system (15 first-level, 103 second-level categories) so that the
package never reads the shared data folder at run time. Third-level categories are not needed for routing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: first-level category -> its second-level categories, in the order of the source table
TAXONOMY: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "城乡建设": (
            "安全生产",
            "城市建设和市政管理",
            "城乡规划",
            "村镇建设",
            "工程质量",
            "国有土地上房屋征收与补偿",
            "集体土地上房屋拆迁与补偿",
            "建筑市场",
            "其他",
            "住房保障与房地产",
        ),
        "党务政务": (
            "党的建设",
            "港澳台侨",
            "国防外交",
            "民族宗教",
            "其他",
            "群众团体",
            "宣传舆论",
            "政治体制",
        ),
        "国土资源": (
            "海洋气象地震",
            "矿产资源管理",
            "其他",
            "土地征收",
            "土地资源管理",
        ),
        "环境保护": (
            "环保管理",
            "环境污染",
            "建设项目审批",
            "其他",
        ),
        "纪检监察": (
            "党政处分",
            "干部作风",
            "滥用职权",
            "其他",
            "失职渎职",
            "贪污贿赂",
        ),
        "交通运输": (
            "出租车管理",
            "建设管理",
            "交通运输",
            "客货运输",
            "其他",
            "邮政管理",
        ),
        "经济管理": (
            "安全生产",
            "保险证券期货",
            "国资监管",
            "宏观调控",
            "金融财税",
            "能源管理",
            "其他",
            "企业破产",
        ),
        "科技与信息产业": (
            "电信",
            "科学技术",
            "其他",
            "信息化建设",
            "知识产权",
        ),
        "民政": (
            "福利慈善",
            "复退安置",
            "基层选举和社区建设",
            "救灾募捐",
            "民间组织",
            "其他",
            "区划地名",
            "社会服务",
            "社会救助",
            "优抚",
        ),
        "农村农业": (
            "草原草场",
            "村务管理",
            "动物防疫",
            "扶贫开发",
            "惠农补贴",
            "林业管理",
            "农副产品流通",
            "农垦农场",
            "农资农技",
            "其他",
            "水库移民",
            "水利水电",
            "土地承包经营",
            "野生资源管理",
        ),
        "商贸旅游": (
            "旅游管理",
            "其他",
            "商业贸易",
            "市场监管",
            "质监检验检疫",
        ),
        "卫生计生": (
            "公共卫生",
            "其他",
            "人口计生",
            "食品药品监管",
            "医患纠纷",
            "医政监管",
        ),
        "政法": (
            "法律服务",
            "法制建设",
            "行政复议",
            "户籍证件",
            "交通管理",
            "警务督察",
            "其他",
            "社会治安",
            "诉讼",
            "刑案侦破",
            "刑罚执行",
            "仲裁与调解",
        ),
        "教育文体": (
            "教师队伍和待遇",
            "教育行政管理",
            "教育收费",
            "教育体制",
            "考试招生",
            "其他",
            "失学辍学",
            "体育",
            "文化",
            "文物管理",
        ),
        "劳动和社会保障": (
            "城镇居民社会保险",
            "城镇职工社会保险",
            "工资福利",
            "就业培训",
            "劳动保护",
            "劳动关系",
            "其他",
            "社保基金管理",
            "退休政策及待遇",
        ),
    }
)

#: the 15 first-level categories
CATEGORIES: tuple[str, ...] = tuple(TAXONOMY)
