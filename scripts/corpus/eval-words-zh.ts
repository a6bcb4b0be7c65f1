/**
 * Chinese word lists for the evaluation set (eval-set.ts): the China subsidiary's expense and HR
 * rules as its policy pages word them (`doc`), the same words shortened or rearranged
 * (`inflected`: 出租车 for 出租车费, 试用期 for 试用期内), and the colloquial words employees type
 * (`synonym`: 打车 for 出租车, 报账 for 报销, 领导批准 for 经理审批), so a question does not simply
 * share its answer's characters.
 */
import type { Concept } from './eval-words-en.ts';

export const ITEMS_ZH: readonly Concept[] = [
  {
    key: 'taxi',
    doc: ['出租车费'],
    inflected: ['出租车', '坐出租车的钱'],
    synonym: ['打车的钱', '的士费用'],
  },
  {
    key: 'hotel',
    doc: ['酒店住宿费'],
    inflected: ['住酒店', '住宿费用'],
    synonym: ['住宾馆的开销', '过夜的房费'],
  },
  { key: 'flight', doc: ['机票'], inflected: ['机票钱', '买机票'], synonym: ['坐飞机的钱', '航班费用'] },
  { key: 'phone', doc: ['手机话费'], inflected: ['手机费', '话费'], synonym: ['电话费', '通讯费'] },
  { key: 'meal', doc: ['餐费'], inflected: ['用餐费用', '餐饮'], synonym: ['吃饭的开销', '伙食'] },
  {
    key: 'training',
    doc: ['培训课程费'],
    inflected: ['培训费', '参加培训'],
    synonym: ['进修学习班', '上课的费用'],
  },
  {
    key: 'conference',
    doc: ['会议注册费'],
    inflected: ['会议费', '开会的注册费'],
    synonym: ['参会门票', '研讨会报名'],
  },
  { key: 'car', doc: ['租车费'], inflected: ['租车', '租车的钱'], synonym: ['汽车租赁', '借一辆汽车'] },
  {
    key: 'chair',
    doc: ['办公椅'],
    inflected: ['办公座椅', '办公用的椅子'],
    synonym: ['座位', '工位上坐的东西'],
  },
  { key: 'gym', doc: ['健身卡'], inflected: ['健身', '办健身卡'], synonym: ['运动馆年费', '游泳馆会员'] },
  {
    key: 'internet',
    doc: ['家庭宽带'],
    inflected: ['宽带费', '家里的宽带'],
    synonym: ['家里网费', '在家上网的钱'],
  },
  { key: 'visa', doc: ['签证费'], inflected: ['签证', '办签证'], synonym: ['出入境手续', '入境许可'] },
  { key: 'parking', doc: ['停车费'], inflected: ['停车', '停车的钱'], synonym: ['泊车的钱', '车位费用'] },
  {
    key: 'relocation',
    doc: ['搬家费'],
    inflected: ['搬家', '搬家的费用'],
    synonym: ['搬迁开销', '换城市的路费'],
  },
  {
    key: 'gift',
    doc: ['客户礼品'],
    inflected: ['给客户的礼品', '礼品'],
    synonym: ['送合作方的礼物', '伴手礼'],
  },
  {
    key: 'software',
    doc: ['软件许可费'],
    inflected: ['软件许可', '软件费'],
    synonym: ['程序订阅', '应用授权'],
  },
  { key: 'glasses', doc: ['眼镜'], inflected: ['配眼镜', '眼镜费'], synonym: ['配镜', '近视镜片'] },
  {
    key: 'childcare',
    doc: ['托儿费'],
    inflected: ['托儿', '托儿所费用'],
    synonym: ['幼儿园费用', '看孩子的开销'],
  },
  {
    key: 'tuition',
    doc: ['学历教育学费'],
    inflected: ['学费', '学历教育'],
    synonym: ['读研究生的钱', '在职硕士'],
  },
  {
    key: 'monitor',
    doc: ['显示器'],
    inflected: ['显示器费用', '多一台显示器'],
    synonym: ['外接屏幕', '第二块屏'],
  },
];

export const CONDITIONS_ZH: readonly Concept[] = [
  { key: 'airport', doc: ['机场接送'], inflected: ['去机场', '接送机'], synonym: ['赶飞机路上', '去航站楼'] },
  { key: 'abroad', doc: ['出国出差'], inflected: ['出国', '国外出差'], synonym: ['境外公干', '去海外'] },
  { key: 'newhire', doc: ['新入职员工'], inflected: ['新员工', '刚入职'], synonym: ['刚来的同事', '新人'] },
  { key: 'contractor', doc: ['外包人员'], inflected: ['外包', '外包同事'], synonym: ['外部顾问', '合同工'] },
  {
    key: 'probation',
    doc: ['试用期内'],
    inflected: ['试用期', '在试用期'],
    synonym: ['还没转正', '转正之前'],
  },
  { key: 'parttime', doc: ['兼职员工'], inflected: ['兼职', '做兼职的'], synonym: ['非全日制', '半职同事'] },
  {
    key: 'weekend',
    doc: ['周末及法定节假日'],
    inflected: ['周末', '节假日'],
    synonym: ['星期六日', '放假的时候'],
  },
  {
    key: 'client',
    doc: ['拜访客户'],
    inflected: ['去拜访客户', '客户拜访'],
    synonym: ['去甲方那里', '见合作方'],
  },
  {
    key: 'intern',
    doc: ['实习生'],
    inflected: ['实习', '实习期间'],
    synonym: ['在校学生', '来公司锻炼的学生'],
  },
  {
    key: 'remote',
    doc: ['远程办公员工'],
    inflected: ['远程办公', '远程上班'],
    synonym: ['在家上班', '居家工作'],
  },
  {
    key: 'executive',
    doc: ['高管'],
    inflected: ['高级管理人员', '高管们'],
    synonym: ['公司领导', '总监以上'],
  },
  {
    key: 'latenight',
    doc: ['深夜加班'],
    inflected: ['加班到深夜', '晚上加班'],
    synonym: ['熬夜工作', '晚上留下干活'],
  },
];

/** Templates take {item}, {cond}, {amount}, {days}. */
export const ACTIONS_ZH: readonly Concept[] = [
  {
    key: 'reimburse',
    doc: ['{cond}产生的{item}可以由公司报销。', '{cond}的{item}由公司全额报销。'],
    inflected: ['{cond}{item}可以报销吗？', '{cond}的{item}能不能报销？'],
    synonym: ['{cond}{item}能报账吗？', '{cond}的{item}公司给退吗？'],
  },
  {
    key: 'approval',
    doc: ['{cond}的{item}须事先取得直属经理的书面审批。', '{cond}的{item}在发生前必须经直属经理审批。'],
    inflected: ['{cond}{item}需要审批吗？', '{cond}的{item}找谁审批？'],
    synonym: ['{cond}{item}要领导批准吗？', '{cond}的{item}需要谁签字同意？'],
  },
  {
    key: 'cap',
    doc: ['{cond}的{item}每月上限为{amount}元。', '{cond}的{item}按每月{amount}元封顶。'],
    inflected: ['{cond}{item}上限是多少？', '{cond}的{item}每月封顶多少？'],
    synonym: ['{cond}{item}最多能花多少？', '{cond}的{item}额度有多少？'],
  },
  {
    key: 'purchase',
    doc: ['{cond}的{item}必须通过公司采购平台统一购买。', '{cond}的{item}一律在采购平台下单。'],
    inflected: ['{cond}{item}怎么采购？', '{cond}的{item}在哪个平台购买？'],
    synonym: ['{cond}{item}去哪里买？', '{cond}的{item}在什么渠道订？'],
  },
  {
    key: 'tax',
    doc: ['{cond}的{item}计入个人应税收入。', '{cond}的{item}视同工资薪金申报个税。'],
    inflected: ['{cond}{item}算应税收入吗？', '{cond}的{item}要交个税吗？'],
    synonym: ['{cond}{item}会不会从工资里扣钱？', '{cond}的{item}国家要抽成吗？'],
  },
  {
    key: 'receipt',
    doc: ['{cond}的{item}须附上增值税发票。', '{cond}的{item}报销时必须提供正规发票。'],
    inflected: ['{cond}{item}需要发票吗？', '{cond}的{item}要提供发票吗？'],
    synonym: ['{cond}{item}要开票吗？', '{cond}的{item}需要什么凭证？'],
  },
  {
    key: 'deadline',
    doc: ['{cond}的{item}须在{days}天内提交报销申请。', '{cond}的{item}超过{days}天不再受理。'],
    inflected: ['{cond}{item}多少天内要提交？', '{cond}的{item}提交期限是多久？'],
    synonym: ['{cond}{item}多久之内要交单？', '{cond}的{item}截止时间是什么时候？'],
  },
];

export const RULE_DETAILS_ZH: readonly string[] = [
  '如有疑问请在飞书联系财务共享中心。',
  '本规定适用于中国区所有法人主体。',
  '特殊情况由区域财务总监决定。',
  '审批通过后随下一次工资发放。',
  '外币金额按费用发生当日汇率折算。',
  '本条款每年由制度负责人复核一次。',
  '审批人对单据的真实性负责。',
  '多次违规将通报合规部门。',
  '完整规定见《差旅及费用管理办法》。',
  '内审部门每季度抽查单据。',
];

export const POLICY_PAGES_ZH: readonly string[] = [
  '差旅及费用管理办法',
  '员工福利指南',
  '采购管理制度',
  '办公设备管理规定',
  '薪酬与个税说明',
  '培训与发展制度',
];
